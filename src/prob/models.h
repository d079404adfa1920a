// Ready-made models (Pixyz's pixyz.models): each writes its loss from the distributions it is given
// and trains them with prob::Model.
#pragma once
#include <utility>

#include "core/export.h"
#include "prob/model.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

// mean(regularizer − E_q(z|x)[log p(x|z)]); regularizer is usually KL(q, prior).
Model VAE(DistPtr q, DistPtr p, const Loss& regularizer, nn::Optimizer optimizer = "adam",
          double clip_grad_norm = 0.0);
// The conditional VAE: q(z|x,y) and p(x|z,y) share the condition y; the regularizer is
// D_KL[q(z|x,y)||p(z)].
Model CVAE(DistPtr q, DistPtr p, DistPtr prior, nn::Optimizer optimizer = "adam",
           double clip_grad_norm = 0.0);
// Variational inference: −mean(ELBO(p, q)), p the joint p(x|z)p(z), q the approximate posterior.
Model VI(DistPtr p, DistPtr q, nn::Optimizer optimizer = "adam", double clip_grad_norm = 0.0);
// Maximum likelihood: −mean(log p).
Model ML(DistPtr p, nn::Optimizer optimizer = "adam", double clip_grad_norm = 0.0);

// The M2 model of Kingma et al. (2014) for semi-supervised learning.
struct M2Parts {
  DistPtr q;           // q(z|x,y), y one-hot
  DistPtr p;           // p(x|z,y)
  DistPtr prior;       // p(z)
  DistPtr classifier;  // f(y|x), a OneHotCategorical
  // Optional: the same network as a RelaxedOneHotCategorical, to draw y for unlabelled x by
  // Gumbel-softmax (as Pixyz's M2 example). Without it the bound sums over every class (Kingma et al.).
  DistPtr relaxed = nullptr;
  double alpha = 1.0;  // weight of the labelled classification loss
};
// Labelled rows come as x, y and unlabelled as x_u. Summing over the classes:
//   −mean(E_f(y_u|x_u)[E_q(z|x_u,y_u)[log p(x_u,z|y_u) − log q(z|x_u,y_u)]] + H[f(y_u|x_u)])
//   − mean(E_q(z|x,y)[log p(x,z|y) − log q(z|x,y)]) + mean(α · −log f(y|x))
// With `relaxed`, the first line is −mean(E_q(z,y_u|x_u)[log p(x_u,z|y_u) − log q(z|x_u,y_u)] +
// H[f(y_u|x_u)]).
Loss m2_loss(const M2Parts& parts);
Model M2(const M2Parts& parts, nn::Optimizer optimizer = "adam", double clip_grad_norm = 0.0);

// A GAN: p is the generator p(x|z)p(z), the discriminator d(t|x) gives a logit; the loss is
// D_JS^Adv[p_data(x)||p(x)] with the non-saturating generator objective.
class GAN {
 public:
  GAN(DistPtr p, DistPtr discriminator, nn::Optimizer optimizer = "adam", AdversarialOptions d_options = {});
  // One discriminator step, then one generator step, on a batch of data {x}: returns their losses
  // {generator, discriminator}.
  std::pair<double, double> train(const Dict& batch);
  const AdversarialLoss& loss() const { return loss_; }
  Model& generator() { return model_; }

 private:
  AdversarialLoss loss_;
  Model model_;
};

}  // namespace dojo::prob

DOJO_PUBLIC_END
