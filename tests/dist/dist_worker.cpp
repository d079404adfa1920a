// One rank of the data-parallel tests (distributed_test.cpp starts two, or one): it joins the group
// its launcher describes, fits a small regression MLP (no dropout, no batch norm) and writes every
// weight after every step to OUT/weights-rank<R>.pt.
// Usage: dist_worker OUT BATCH EPOCHS [slow|prob]; slow: train for a long time, with
// OUT/started-rank<R> written after the first step (a test kills a rank then); prob: EPOCHS steps of
// prob::Model::train instead, on p(y|x) = Normal(net(x)), each rank given its share of a BATCH batch;
// ppo: DD-PPO on CartPole for EPOCHS env steps (the group's), minibatches of BATCH, recording every
// gradient step's weights, averaged gradients and normaliser statistics; selfplay: BATCH games of
// tic-tac-toe self-play shared between the ranks (seed EPOCHS), this rank's own as OUT/own-rank<R>.txt
// and everyone's as OUT/all-rank<R>.txt.
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "core/distributed.h"
#include "core/error.h"
#include "core/runtime.h"
#include "games/alphazero.h"
#include "games/network.h"
#include "nn/callbacks.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "prob/distribution.h"
#include "prob/loss.h"
#include "prob/model.h"
#include "rl/ppo.h"

using namespace dojo;

namespace {

class RecordWeights : public nn::Callback {
 public:
  RecordWeights(std::filesystem::path started) : started_(std::move(started)) {}
  void on_train_batch_end(std::int64_t /*batch*/, const nn::Logs& /*logs*/) override {
    std::vector<torch::Tensor> flat;
    for (const auto& w : model().get_weights()) flat.push_back(w.reshape({-1}));
    steps.push_back(torch::cat(flat));
    if (!started_.empty() && steps.size() == 1) std::ofstream(started_) << "1\n";
  }
  std::vector<torch::Tensor> steps;

 private:
  std::filesystem::path started_;
};

}  // namespace

int main(int argc, char** argv) try {
  core::use_fast_blas_kernels();
  if (argc < 4) throw Error("usage: dist_worker OUT BATCH EPOCHS [SLOW]");
  const std::filesystem::path out = argv[1];
  const auto batch = std::stoll(argv[2]), epochs = std::stoll(argv[3]);
  const std::string mode = argc > 4 ? argv[4] : "";
  const bool slow = mode == "slow";
  core::DistOptions dist;
  dist.timeout_s = 20;
  core::init_process_group(dist);
  core::configure_compute(1);
  core::seed_everything(0);
  // Data from its own generator: the same on every rank, whatever the rank did before.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto n = slow ? 4096 : 100;
  auto x = torch::randn({n, 5}, gen);
  auto y = (x * torch::arange(1, 6, torch::kFloat)).sum(1, true).tanh() + 0.1 * torch::randn({n, 1}, gen);

  const auto rank = core::dist_rank(), world = core::dist_world_size();
  if (mode == "selfplay") {
    const auto game = games::game("tic_tac_toe");
    auto model = games::policy_value_network(*game, {1, 8, 8});
    core::broadcast_module(*model);
    games::SelfPlayOptions o;
    o.mcts.rule = "puct";
    o.mcts.simulations = 16;
    o.mcts.dirichlet_alpha = 1.0;
    const auto count = static_cast<int>(batch);
    const auto own = games::self_play_games(*game, std::make_shared<games::NetworkEvaluator>(model), o, count,
                                            2, static_cast<std::uint64_t>(epochs), rank, world);
    const auto all = games::gather_games(*game, own, count);
    const auto write = [&](const std::string& name, const std::vector<games::SelfPlayGame>& played) {
      std::ofstream f(out / (name + "-rank" + std::to_string(rank) + ".txt"));
      f.precision(9);
      for (const auto& g : played) {
        f << g.returns[0] << " " << g.returns[1] << " |";
        for (const auto m : g.moves) f << " " << m;
        for (const auto& x : g.samples) {
          f << " | " << x.value;
          for (const auto v : x.observation) f << " " << v;
          for (const auto v : x.policy) f << " " << v;
        }
        f << "\n";
      }
    };
    write("own", own);
    write("all", all);
    core::destroy_process_group();
    return 0;
  }
  if (mode == "ppo") {
    // Minibatches that split each rank's rollout (64 steps less its autoresets) unevenly, a KL stop,
    // and both normalisers: every piece that must stay in step across ranks.
    rl::PPO agent(envs::EnvFactory("CartPole-v1"),
                  rl::PPOOptions()
                      .n_envs(2)
                      .n_steps(32)
                      .batch_size(batch)
                      .n_epochs(4)
                      .target_kl(0.02)
                      .normalize_observations(true)
                      .normalize_reward(true),
                  0);
    std::vector<torch::Tensor> steps;
    agent.set_gradient_hook([&](const std::vector<torch::Tensor>& params) {
      std::vector<torch::Tensor> flat;
      for (const auto& p : params) {
        flat.push_back(p.detach().reshape({-1}));
        flat.push_back(p.grad().reshape({-1}));
      }
      const auto& norm = agent.normalizer();
      for (const auto& t : {norm.obs_stats().mean(), norm.obs_stats().var(), norm.return_stats().var()})
        flat.push_back(t.to(torch::kFloat).reshape({-1}));
      steps.push_back(torch::cat(flat));
    });
    rl::CallbackList none;
    agent.learn(epochs, none);
    torch::save(torch::stack(steps), (out / ("weights-rank" + std::to_string(rank) + ".pt")).string());
    std::ofstream(out / ("logs-rank" + std::to_string(rank) + ".txt")) << agent.num_timesteps() << "\n";
    core::destroy_process_group();
    return 0;
  }
  if (mode == "prob") {  // Pixyz-style: the loss formula, the distribution, one step per batch
    auto in = nn::Input({5});
    auto h = nn::Dense(16, {.activation = "tanh"})(in);
    nn::Model net(
        in, std::vector<nn::SymbolicTensor>{nn::Dense(1)(h), nn::Dense(1, {.activation = "softplus"})(h)});
    if (rank != 0) {  // other weights on rank 1: the model must start from rank 0's
      torch::NoGradGuard no_grad;
      for (auto& p : net->parameters()) p.add_(1.0);
    }
    auto p = prob::Normal(net, {.var = {"y"}, .cond_var = {"x"}});
    prob::Model model((-prob::LogProb(p)).mean(), {p}, nn::optimizers::Adam(0.01));
    std::vector<torch::Tensor> steps;
    for (std::int64_t step = 0; step < epochs; ++step) {
      const auto rows = torch::arange(static_cast<std::int64_t>(step * batch),
                                      static_cast<std::int64_t>((step + 1) * batch), torch::kLong) %
                        n;
      const auto mine = rows.slice(0, rank, batch, world);  // this rank's share of the batch
      model.train(prob::Dict{{"x", x.index_select(0, mine)}, {"y", y.index_select(0, mine)}});
      std::vector<torch::Tensor> flat;
      for (const auto& w : net->parameters()) flat.push_back(w.detach().reshape({-1}));
      steps.push_back(torch::cat(flat));
    }
    torch::save(torch::stack(steps), (out / ("weights-rank" + std::to_string(rank) + ".pt")).string());
    core::destroy_process_group();
    return 0;
  }

  nn::Sequential model;
  model.add(nn::Dense(16, {.activation = "tanh", .input_shape = {5}}));
  model.add(nn::Dense(1));
  // Rank 1 starts from other weights than rank 0: fit's broadcast must make them equal.
  if (core::dist_rank() != 0) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(1.0);
  }
  model.compile(nn::optimizers::Adam(0.01), "mse");
  auto record = std::make_shared<RecordWeights>(slow ? out / ("started-rank" + std::to_string(rank)) : "");
  auto history = model.fit(x, y,
                           {.batch_size = batch,
                            .epochs = slow ? 100000 : epochs,
                            .verbose = 0,
                            .validation_split = 0.25,
                            .callbacks = {record, std::make_shared<nn::CSVLogger>(out / "log.csv")}});
  torch::save(torch::stack(record->steps), (out / ("weights-rank" + std::to_string(rank) + ".pt")).string());
  std::ofstream(out / ("logs-rank" + std::to_string(rank) + ".txt"))
      << history["loss"].back() << " " << history["val_loss"].back() << "\n";
  core::destroy_process_group();
  return 0;
} catch (const core::DistributedError& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 2;
}
