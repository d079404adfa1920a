#include "prob/models.h"

#include <algorithm>

#include "core/error.h"
#include "core/strings.h"

namespace dojo::prob {

namespace {
bool conditioned_on(const Distribution& d, const std::string& v) {
  return std::find(d.cond_var().begin(), d.cond_var().end(), v) != d.cond_var().end();
}
}  // namespace

Model VAE(DistPtr q, DistPtr p, const Loss& regularizer, nn::Optimizer optimizer, double clip) {
  auto loss = (regularizer - E(q, LogProb(p))).mean();
  return Model(loss, {q, p}, std::move(optimizer), clip);
}

Model CVAE(DistPtr q, DistPtr p, DistPtr prior, nn::Optimizer optimizer, double clip) {
  // The condition: what both networks read that neither draws.
  std::vector<std::string> shared;
  for (const auto& c : q->cond_var()) {
    if (conditioned_on(*p, c) && c != p->var()[0]) shared.push_back(c);
  }
  if (shared.empty()) {
    throw Error("CVAE: " + q->prob_text() + " and " + p->prob_text() + " share no condition (such as y)");
  }
  return VAE(q, p, KL(q, std::move(prior)), std::move(optimizer), clip);
}

Model VI(DistPtr p, DistPtr q, nn::Optimizer optimizer, double clip) {
  return Model(-ELBO(p, q).mean(), {p, q}, std::move(optimizer), clip);
}

Model ML(DistPtr p, nn::Optimizer optimizer, double clip) {
  return Model(-LogProb(p).mean(), {p}, std::move(optimizer), clip);
}

Loss m2_loss(const M2Parts& m) {
  for (const auto& d : {m.q, m.p, m.prior, m.classifier}) {
    if (!d) throw Error("M2: q, p, prior and classifier are all needed");
  }
  if (!conditioned_on(*m.q, "x") || !conditioned_on(*m.q, "y") || !conditioned_on(*m.p, "y")) {
    throw Error("M2: expected q(z|x,y) and p(x|z,y), got " + m.q->prob_text() + " and " + m.p->prob_text());
  }
  // Unlabelled rows travel as x_u, their guessed class as y_u.
  const std::map<std::string, std::string> u{{"x", "x_u"}, {"y", "y_u"}};
  auto q_z = m.q->replace_var(u), f_u = m.classifier->replace_var(u);
  auto bound = LogProb(m.p->replace_var(u) * m.prior) - LogProb(q_z);
  auto elbo_u =
      (m.relaxed ? E(q_z * m.relaxed->replace_var(u), bound) : E(f_u, E(q_z, bound), {.enumerate = true})) +
      Entropy(f_u);
  auto elbo = ELBO(m.p * m.prior, m.q);
  auto nll = -LogProb(m.classifier);
  return -elbo_u.mean() - elbo.mean() + (Loss(m.alpha) * nll).mean();
}

Model M2(const M2Parts& parts, nn::Optimizer optimizer, double clip) {
  return Model(m2_loss(parts), {parts.q, parts.p, parts.classifier}, std::move(optimizer), clip);
}

namespace {
const DistPtr& observed(const DistPtr& p) {
  if (p->var().size() != 1) {
    throw Error("GAN: the generator must be over the data alone, got " + p->prob_text() +
                "; marginalize the noise, e.g. (p * prior)->marginalize_var({\"z\"})");
  }
  return p;
}
}  // namespace

GAN::GAN(DistPtr p, DistPtr discriminator, nn::Optimizer optimizer, AdversarialOptions d_options)
    : loss_(AdversarialJensenShannon(DataDistribution(observed(p)->var()), p, std::move(discriminator),
                                     std::move(d_options))),
      model_(loss_.mean(), {p}, std::move(optimizer)) {}

std::pair<double, double> GAN::train(const Dict& batch) {
  const double d = loss_.train_discriminator(batch);
  const double g = model_.train(batch);
  return {g, d};
}

}  // namespace dojo::prob
