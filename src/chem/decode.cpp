#include "chem/decode.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "chem/molecule.h"
#include "core/error.h"

namespace dojo::chem {

Candidate check_candidate(const std::string& text, const std::string& target) {
  Candidate c;
  c.text = text;
  if (target == "inchi") {
    c.inchi = text;
    if (auto n = normalize_inchi(text)) {
      c.valid = true;
      c.inchi = *n;
      try {
        c.smiles = canonical_smiles(smiles_from_inchi(*n));
      } catch (const Error&) {
      }
    }
  } else if (target == "smiles") {
    if (auto s = try_canonical_smiles(text)) {
      try {
        c.inchi = inchi_from_smiles(*s);
        c.smiles = *s;
        c.valid = true;
      } catch (const Error&) {
      }
    }
  } else {
    throw Error("target '" + target + "': expected inchi or smiles");
  }
  return c;
}

namespace {

double rank_score(const Candidate& c, double alpha) {
  return alpha > 0 ? c.log_prob / std::pow(static_cast<double>(std::max<std::int64_t>(c.length, 1)), alpha)
                   : c.log_prob;
}

}  // namespace

std::vector<Translation> translate(Captioner& model, const Vocabulary& vocab, const torch::Tensor& images,
                                   const DecodeOptions& o) {
  if (o.beam < 1) throw Error("beam " + std::to_string(o.beam) + ": expected >= 1");
  torch::NoGradGuard no_grad;
  model->eval();
  const auto b = images.size(0), k = o.beam, max_len = model->options().max_len();
  const auto device = images.device();
  auto memory = model->encode(images);
  // Hypotheses laid out [B * k]; at the start only the first of each image's k is alive.
  memory = memory.repeat_interleave(k, 0);
  auto cache = model->start(memory);
  auto scores = torch::full({b, k}, -std::numeric_limits<double>::infinity(), torch::kDouble);
  scores.select(1, 0).fill_(0.0);
  std::vector<std::vector<std::int64_t>> seqs(static_cast<std::size_t>(b * k));
  std::vector<std::vector<Candidate>> finished(static_cast<std::size_t>(b));
  std::vector<std::vector<std::vector<float>>> attention(static_cast<std::size_t>(b));
  auto last = torch::full({b * k}, Vocabulary::kSos, torch::kLong);
  const auto vocab_size = model->options().vocab();
  for (std::int64_t t = 0; t + 1 < max_len; ++t) {
    const auto logp =
        torch::log_softmax(model->step(cache, last.to(device)), -1).to(torch::kCPU, torch::kDouble);
    if (k == 1) {
      const auto& maps = model->last_cross_attention();
      const auto last_map = maps.back().to(torch::kCPU, torch::kFloat).contiguous();
      for (std::int64_t i = 0; i < b; ++i) {
        if (finished[static_cast<std::size_t>(i)].empty()) {
          const auto* p = last_map[i].data_ptr<float>();
          attention[static_cast<std::size_t>(i)].emplace_back(p, p + last_map.size(1));
        }
      }
    }
    // Every alive hypothesis extended by every token: keep the k best per image.
    const auto total = (scores.view({b * k, 1}) + logp).view({b, k * vocab_size});
    const auto [best, index] = total.topk(2 * k, 1);  // 2k: room for those that end here
    std::vector<std::int64_t> rows, next;
    auto new_scores = torch::full({b, k}, -std::numeric_limits<double>::infinity(), torch::kDouble);
    bool any_alive = false;
    for (std::int64_t i = 0; i < b; ++i) {
      auto& done = finished[static_cast<std::size_t>(i)];
      std::int64_t kept = 0;
      for (std::int64_t j = 0; j < 2 * k && kept < k; ++j) {
        const double s = best[i][j].item<double>();
        if (!std::isfinite(s)) break;
        const auto flat = index[i][j].item<std::int64_t>();
        const auto from = i * k + flat / vocab_size, token = flat % vocab_size;
        if (token == Vocabulary::kEos || t + 2 == max_len) {
          if (static_cast<std::int64_t>(done.size()) < k) {
            Candidate c;
            c.text = vocab.decode(seqs[static_cast<std::size_t>(from)]);
            c.log_prob = s;
            c.length = static_cast<std::int64_t>(seqs[static_cast<std::size_t>(from)].size()) + 1;
            done.push_back(std::move(c));
          }
          continue;
        }
        if (static_cast<std::int64_t>(done.size()) >= k) continue;  // this image has its k endings
        rows.push_back(from);
        next.push_back(token);
        new_scores[i][kept] = s;
        ++kept;
      }
      // Unused slots repeat a live row with score -inf, so the batch keeps its shape.
      for (; kept < k; ++kept) {
        rows.push_back(i * k);
        next.push_back(Vocabulary::kPad);
      }
      if (static_cast<std::int64_t>(done.size()) < k && std::isfinite(new_scores[i][0].item<double>()))
        any_alive = true;
    }
    if (!any_alive) break;
    std::vector<std::vector<std::int64_t>> new_seqs;
    for (std::size_t r = 0; r < rows.size(); ++r) {
      auto s = seqs[static_cast<std::size_t>(rows[r])];
      s.push_back(next[r]);
      new_seqs.push_back(std::move(s));
    }
    seqs = std::move(new_seqs);
    const auto row_index = torch::tensor(rows, torch::kLong);
    cache.select(row_index.to(device));
    scores = new_scores;
    last = torch::tensor(next, torch::kLong);
  }

  std::vector<Translation> out(static_cast<std::size_t>(b));
  for (std::int64_t i = 0; i < b; ++i) {
    auto& cands = finished[static_cast<std::size_t>(i)];
    for (auto& c : cands) {
      auto checked = check_candidate(c.text, o.target);
      checked.log_prob = c.log_prob;
      checked.length = c.length;
      c = std::move(checked);
    }
    std::stable_sort(cands.begin(), cands.end(), [&](const Candidate& x, const Candidate& y) {
      if (o.rerank && x.valid != y.valid) return x.valid;
      return rank_score(x, o.length_penalty) > rank_score(y, o.length_penalty);
    });
    auto& tr = out[static_cast<std::size_t>(i)];
    if (!cands.empty()) {
      const auto& best = cands.front();
      tr.inchi = best.inchi;
      // An invalid SMILES is still shown as decoded (it has no InChI), so a reader sees what went wrong.
      tr.smiles = best.valid || o.target != "smiles" ? best.smiles : best.text;
      tr.valid = best.valid;
      tr.confidence = std::exp(best.log_prob / static_cast<double>(std::max<std::int64_t>(best.length, 1)));
    }
    tr.candidates = std::move(cands);
    tr.attention = std::move(attention[static_cast<std::size_t>(i)]);
  }
  return out;
}

}  // namespace dojo::chem
