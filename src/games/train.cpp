#include "games/train.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/checkpoint.h"
#include "core/csv.h"
#include "core/distributed.h"
#include "core/error.h"
#include "core/files.h"
#include "core/plot.h"
#include "core/run_dir.h"
#include "core/runtime.h"
#include "core/seed.h"
#include "games/alphazero.h"
#include "games/arena.h"
#include "games/network.h"
#include "games/players.h"
#include "nn/optim.h"

namespace dojo::games {

namespace fs = std::filesystem;

void AlphaZeroOptions::validate() const {
  core::check_options(*this);
  const auto g = games::game(game_);  // names the registered games when unknown
  for (std::size_t i = 0; i < ladder_.size(); ++i) make_player(ladder_[i], *g, 0);
  if (gumbel_ && gumbel_actions_ < 2) throw Error("gumbel_actions: expected at least 2");
}

double alphazero_learning_rate(const AlphaZeroOptions& o, std::int64_t iterations, double minutes) {
  double progress = static_cast<double>(iterations) / static_cast<double>(o.iterations());
  if (o.max_minutes() > 0) progress = std::max(progress, minutes / o.max_minutes());
  return progress >= o.lr_drop_at() ? o.learning_rate() * o.lr_drop() : o.learning_rate();
}

MctsOptions self_play_search(const AlphaZeroOptions& o) {
  MctsOptions m;
  m.rule = "puct";
  m.simulations = static_cast<int>(o.simulations());
  m.c = o.c_puct();
  m.batch = static_cast<int>(o.search_batch());
  m.gumbel = o.gumbel();
  m.gumbel_actions = static_cast<int>(o.gumbel_actions());
  // Gumbel explores by its own noise at the root; PUCT by Dirichlet noise on the priors.
  m.dirichlet_alpha = o.gumbel() ? 0.0 : o.dirichlet_alpha();
  m.dirichlet_epsilon = o.dirichlet_epsilon();
  return m;
}

MctsOptions evaluation_search(const AlphaZeroOptions& o, std::int64_t simulations) {
  MctsOptions m;
  m.rule = "puct";
  m.simulations = static_cast<int>(std::max<std::int64_t>(1, simulations));
  m.c = o.c_puct();
  m.batch = static_cast<int>(std::min(o.search_batch(), std::max<std::int64_t>(1, simulations / 4)));
  return m;
}

std::unique_ptr<Player> alphazero_player(const AlphaZeroOptions& options, std::shared_ptr<Evaluator> network,
                                         std::int64_t simulations, std::uint64_t seed,
                                         const std::string& name) {
  if (simulations == 0) return std::make_unique<NetworkPlayer>(name, std::move(network));
  return std::make_unique<MctsPlayer>(name, evaluation_search(options, simulations), std::move(network),
                                      seed);
}

double elo_rating(const std::vector<RatedScore>& results) {
  const auto expected_minus_score = [&](double r) {
    double sum = 0.0;
    for (const auto& x : results) {
      const double n = x.games;
      const double shrunk = (x.score * n + 0.5) / (n + 1.0);
      sum += (n + 1.0) * (1.0 / (1.0 + std::pow(10.0, (x.rating - r) / 400.0)) - shrunk);
    }
    return sum;  // increasing in r
  };
  double lo = -10000.0, hi = 10000.0;
  for (const auto& x : results) lo = std::min(lo, x.rating - 10000.0), hi = std::max(hi, x.rating + 10000.0);
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (expected_minus_score(mid) < 0.0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

core::Config resolve_alphazero_config(const core::Config& config) {
  core::check_keys(config, core::option_keys<AlphaZeroOptions>());
  AlphaZeroOptions o;
  core::read_options(config, o);
  o.validate();
  core::Config out;
  core::write_options(o, out);
  return out;
}

namespace {

NetworkOptions network_options(const AlphaZeroOptions& o) {
  return {static_cast<int>(o.blocks()), static_cast<int>(o.filters()), static_cast<int>(o.value_hidden())};
}

// The replay window as three tensors in a checkpoint, and back.
void put_window(core::CheckpointWriter& w, const ReplayWindow& window, const Game& game) {
  const auto shape = game.observation_shape();
  const std::int64_t size = static_cast<std::int64_t>(shape[0]) * shape[1] * shape[2];
  const auto n = static_cast<std::int64_t>(window.size());
  auto obs = torch::empty({n, size});
  auto pol = torch::empty({n, game.num_actions()});
  auto val = torch::empty({n});
  std::int64_t i = 0;
  for (const auto& s : window.samples()) {
    std::copy(s.observation.begin(), s.observation.end(), obs.data_ptr<float>() + i * size);
    std::copy(s.policy.begin(), s.policy.end(), pol.data_ptr<float>() + i * game.num_actions());
    val.data_ptr<float>()[i++] = s.value;
  }
  w.put("window_observations", obs);
  w.put("window_policies", pol);
  w.put("window_values", val);
}

void get_window(core::CheckpointReader& r, ReplayWindow& window, const Game& game) {
  const auto obs = r.get_tensor("window_observations").contiguous();
  const auto pol = r.get_tensor("window_policies").contiguous();
  const auto val = r.get_tensor("window_values").contiguous();
  const auto n = val.size(0);
  if (obs.size(0) != n || pol.size(0) != n || pol.size(1) != game.num_actions())
    throw Error("checkpoint's replay window does not fit the game " + game.name());
  std::vector<Sample> samples(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    auto& s = samples[static_cast<std::size_t>(i)];
    s.observation.assign(obs[i].data_ptr<float>(), obs[i].data_ptr<float>() + obs.size(1));
    s.policy.assign(pol[i].data_ptr<float>(), pol[i].data_ptr<float>() + pol.size(1));
    s.value = val.data_ptr<float>()[i];
  }
  window.add(samples);
}

struct Progress {
  std::int64_t iteration = 0, games = 0, positions = 0, steps = 0;
  double seconds = 0, elo = std::nan(""), best_elo = std::nan(""), selfplay_seconds = 0;
  std::string rng;
};

// Each rung's rating: random (or the first rung) 0, then each rung by its score against the one below.
std::vector<double> rate_ladder(const Game& game, const AlphaZeroOptions& o, const fs::path& dir) {
  std::vector<double> ratings;
  core::CsvWriter csv(dir / "ladder.csv", {"rung", "rating", "score_vs_previous"});
  for (std::size_t i = 0; i < o.ladder().size(); ++i) {
    if (i == 0) {
      ratings.push_back(0.0);
      csv.row({0, 0, std::nan("")});
      continue;
    }
    auto a = make_player(o.ladder()[i], game,
                         core::derive_seed(static_cast<std::uint64_t>(o.seed()), "ladder", 2 * i));
    auto b = make_player(o.ladder()[i - 1], game,
                         core::derive_seed(static_cast<std::uint64_t>(o.seed()), "ladder", 2 * i + 1));
    MatchOptions m;
    m.games = static_cast<int>(std::max<std::int64_t>(2, o.eval_games()));
    m.random_plies = static_cast<int>(o.eval_random_plies());
    m.seed = core::derive_seed(static_cast<std::uint64_t>(o.seed()), "ladder-openings", i);
    const auto r = play_match(game, *a, *b, m);
    const double rating = elo_rating({{ratings.back(), r.score(), r.wins + r.draws + r.losses}});
    ratings.push_back(rating);
    csv.row({static_cast<double>(i), rating, r.score()});
    spdlog::info("ladder: {} scores {:.3f} against {}: rated {:.0f}", o.ladder()[i], r.score(),
                 o.ladder()[i - 1], rating);
  }
  return ratings;
}

std::vector<double> read_ladder(const fs::path& dir) {
  return core::read_csv(dir / "ladder.csv").column("rating");
}

void write_curves(const fs::path& dir) {
  std::vector<core::Panel> panels;
  if (fs::exists(dir / "metrics.csv")) {
    const auto t = core::read_csv(dir / "metrics.csv");
    core::Series policy{"policy loss (cross-entropy to the search)", t.column("positions"),
                        t.column("policy_loss")};
    core::Series value{
        "value loss (squared error)", t.column("positions"), t.column("value_loss"), {0.85, 0.25, 0.1}};
    panels.push_back({{policy, value},
                      {.title = "AlphaZero: learner", .x_label = "self-play positions", .y_label = "loss"}});
  }
  if (fs::exists(dir / "eval.csv")) {
    const auto t = core::read_csv(dir / "eval.csv");
    core::Series elo{
        "Elo against the ladder", t.column("positions"), t.column("elo"), {0.15, 0.55, 0.2}, 2.0, true};
    panels.push_back(
        {{elo},
         {.title = "AlphaZero: strength", .x_label = "self-play positions", .y_label = "Elo (random = 0)"}});
  }
  if (!panels.empty()) core::stacked_plot(dir / "learning_curve.png", panels);
}

// Distributed self-play (OpenSpiel's actor/learner split, over processes): rank 0 is the learner and
// every rank, rank 0 too, an actor. Before each iteration rank 0 says whether there is one (and its
// number, which seeds the games) and sends its latest weights; each rank then plays its share of the
// games (gather_games brings them all to the learner). Returns false when training is over. One
// process: `go_on`.
bool start_iteration(bool go_on, std::int64_t& iteration, nn::Model& model) {
  auto* group = core::process_group();
  if (group == nullptr || group->size() <= 1) return go_on;
  // The actors wait while rank 0 learns, rates its ladder or evaluates: for as long as that takes,
  // not a collective's limit.
  static int calls = 0;
  const auto key = "alphazero/" + std::to_string(calls++);
  if (group->is_main()) {
    group->release(key);
  } else {
    group->wait_for_main(key, std::chrono::hours(24));
  }
  std::vector<torch::Tensor> t{
      torch::tensor({go_on ? 1.0 : 0.0, static_cast<double>(iteration)}, torch::kDouble)};
  group->broadcast(t);
  iteration = static_cast<std::int64_t>(t[0][1].item<double>());
  if (t[0][0].item<double>() == 0.0) return false;
  core::broadcast_module(*model);
  return true;
}

// An actor rank (not 0): self-play with the learner's weights until it says stop. It writes nothing.
AlphaZeroSummary act(const AlphaZeroOptions& o, const Game& game, nn::Model model, const SelfPlayOptions& sp,
                     const fs::path& dir) {
  const auto seed = static_cast<std::uint64_t>(o.seed());
  std::int64_t iteration = 0;
  AlphaZeroSummary s;
  s.run_dir = dir;
  while (start_iteration(false, iteration, model)) {
    const auto played =
        self_play_games(game, std::make_shared<NetworkEvaluator>(model), sp,
                        static_cast<int>(o.games_per_iteration()), static_cast<int>(o.actors()),
                        core::derive_seed(seed, "iteration", static_cast<std::uint64_t>(iteration)),
                        core::dist_rank(), core::dist_world_size());
    s.games += static_cast<std::int64_t>(played.size());
    gather_games(game, played, static_cast<int>(o.games_per_iteration()));
    s.iterations = iteration + 1;
  }
  return s;
}

AlphaZeroSummary run(const core::Config& cfg, const fs::path& dir, bool resuming) {
  AlphaZeroOptions o;
  core::read_options(cfg, o);
  o.validate();
  core::configure_compute(o.n_threads());
  const auto g = games::game(o.game());
  const auto seed = static_cast<std::uint64_t>(o.seed());

  torch::manual_seed(seed);
  auto model = policy_value_network(*g, network_options(o));
  const auto search = self_play_search(o);
  SelfPlayOptions sp;
  sp.mcts = search;
  sp.temperature_moves = static_cast<int>(o.temperature_moves());
  if (core::dist_rank() > 0) return act(o, *g, model, sp, dir);
  nn::OptimizerOptions oo;
  oo.learning_rate = o.learning_rate();
  oo.weight_decay = o.weight_decay();
  auto optimizer = nn::make_optimizer(model->parameters(), oo);
  ReplayWindow window(static_cast<std::size_t>(o.window()));
  Progress p;
  std::mt19937_64 rng(core::derive_seed(seed, "learner"));
  std::vector<double> ratings;
  if (resuming) {
    core::CheckpointReader r(dir / "checkpoints" / "last.ckpt");
    if (!r.has("kind") || r.get_string("kind") != "dojo-alphazero")
      throw Error("'" + (dir / "checkpoints" / "last.ckpt").string() + "' is not an AlphaZero checkpoint");
    r.get("model", *model);
    r.get("optimizer", *optimizer);
    get_window(r, window, *g);
    p.iteration = r.get_int("iteration");
    p.games = r.get_int("games");
    p.positions = r.get_int("positions");
    p.steps = r.get_int("steps");
    p.seconds = r.get_double("seconds");
    p.selfplay_seconds = r.get_double("selfplay_seconds");
    p.elo = r.get_double("elo");
    p.best_elo = r.get_double("best_elo");
    std::istringstream(r.get_string("rng")) >> rng;
    if (o.eval_games() > 0) ratings = read_ladder(dir);
    core::truncate_csv(dir / "metrics.csv", static_cast<double>(p.iteration));
    core::truncate_csv(dir / "eval.csv", static_cast<double>(p.iteration));
    spdlog::info("resuming {} at iteration {} ({} positions, {:.2f} h)", dir.string(), p.iteration,
                 p.positions, p.seconds / 3600);
  } else if (o.eval_games() > 0) {
    ratings = rate_ladder(*g, o, dir);
  }

  const auto save = [&](const fs::path& path, bool full) {
    core::CheckpointWriter w;
    w.put("kind", std::string("dojo-alphazero"));
    w.put("config", cfg.dump());
    w.put("model", *model);
    w.put("iteration", p.iteration);
    w.put("games", p.games);
    w.put("positions", p.positions);
    w.put("steps", p.steps);
    w.put("seconds", p.seconds);
    w.put("selfplay_seconds", p.selfplay_seconds);
    w.put("elo", p.elo);
    w.put("best_elo", p.best_elo);
    if (full) {
      w.put("optimizer", *optimizer);
      put_window(w, window, *g);
      std::ostringstream out;
      out << rng;
      w.put("rng", out.str());
    }
    w.save(path);
  };

  core::CsvWriter metrics(dir / "metrics.csv",
                          {"iteration", "hours", "games", "positions", "steps", "policy_loss", "value_loss",
                           "selfplay_positions_per_s", "selfplay_games_per_s"},
                          resuming);
  std::vector<std::string> eval_header{"iteration", "hours", "positions", "elo"};
  for (const auto& rung : o.ladder()) eval_header.push_back("score_" + rung);
  core::CsvWriter eval_csv(dir / "eval.csv", eval_header, resuming);

  const auto evaluate = [&] {
    auto evaluator = std::make_shared<NetworkEvaluator>(model);
    std::vector<RatedScore> results;
    std::vector<double> row{static_cast<double>(p.iteration), p.seconds / 3600,
                            static_cast<double>(p.positions), 0};
    std::string line;
    for (std::size_t i = 0; i < o.ladder().size(); ++i) {
      auto az =
          alphazero_player(o, evaluator, o.eval_simulations(),
                           core::derive_seed(seed, "eval-player", static_cast<std::uint64_t>(p.iteration)));
      auto rung = make_player(o.ladder()[i], *g, core::derive_seed(seed, "eval-rung", i));
      MatchOptions m;
      m.games = static_cast<int>(o.eval_games() + o.eval_games() % 2);
      m.random_plies = static_cast<int>(o.eval_random_plies());
      m.seed = core::derive_seed(seed, "eval-openings", static_cast<std::uint64_t>(p.iteration));
      const auto r = play_match(*g, *az, *rung, m);
      results.push_back({ratings[i], r.score(), r.wins + r.draws + r.losses});
      row.push_back(r.score());
      line += fmt::format("  {} {}-{}-{}", o.ladder()[i], r.wins, r.draws, r.losses);
    }
    p.elo = elo_rating(results);
    row[3] = p.elo;
    eval_csv.row(row);
    spdlog::info("iteration {}: Elo {:.0f} (W-D-L{})", p.iteration, p.elo, line);
    if (std::isnan(p.best_elo) || p.elo >= p.best_elo) {
      p.best_elo = p.elo;
      save(dir / "checkpoints" / "best.ckpt", false);
    }
  };

  // The time limit holds: no iteration starts that would, at the last one's pace, end past it.
  double last_iteration_seconds = 0;
  const auto finished = [&] {
    return p.iteration >= o.iterations() ||
           (o.max_minutes() > 0 && p.seconds + last_iteration_seconds > 60 * o.max_minutes());
  };
  auto last_checkpoint = std::chrono::steady_clock::now();
  while (start_iteration(!finished(), p.iteration, model)) {
    // Self-play with the current network: data parallel, this rank's share, then every rank's.
    const auto t0 = std::chrono::steady_clock::now();
    auto evaluator = std::make_shared<NetworkEvaluator>(model);
    const auto count = static_cast<int>(o.games_per_iteration());
    const auto played = gather_games(
        *g,
        self_play_games(*g, evaluator, sp, count, static_cast<int>(o.actors()),
                        core::derive_seed(seed, "iteration", static_cast<std::uint64_t>(p.iteration)), 0,
                        core::dist_world_size()),
        count);
    std::int64_t positions = 0;
    for (const auto& game : played) {
      window.add(game.samples);
      positions += static_cast<std::int64_t>(game.samples.size());
    }
    const auto t1 = std::chrono::steady_clock::now();
    // The learner.
    nn::set_learning_rate(*optimizer, alphazero_learning_rate(o, p.iteration, p.seconds / 60));
    Losses sum;
    for (std::int64_t s = 0; s < o.steps_per_iteration(); ++s) {
      const auto l = train_step(model, *optimizer, window.sample(*g, o.batch_size(), rng));
      sum.policy += l.policy;
      sum.value += l.value;
    }
    const auto t2 = std::chrono::steady_clock::now();
    const double selfplay = std::chrono::duration<double>(t1 - t0).count();
    p.selfplay_seconds += selfplay;
    last_iteration_seconds = std::chrono::duration<double>(t2 - t0).count();
    p.seconds += last_iteration_seconds;
    p.games += static_cast<std::int64_t>(played.size());
    p.positions += positions;
    p.steps += o.steps_per_iteration();
    ++p.iteration;
    const double steps = static_cast<double>(std::max<std::int64_t>(1, o.steps_per_iteration()));
    metrics.row({static_cast<double>(p.iteration), p.seconds / 3600, static_cast<double>(p.games),
                 static_cast<double>(p.positions), static_cast<double>(p.steps), sum.policy / steps,
                 sum.value / steps, static_cast<double>(positions) / selfplay,
                 static_cast<double>(played.size()) / selfplay});
    spdlog::info(
        "iteration {}: {} positions ({:.0f}/s self-play), loss policy {:.3f} value {:.3f}, {:.1f} min",
        p.iteration, positions, static_cast<double>(positions) / selfplay, sum.policy / steps,
        sum.value / steps, p.seconds / 60);
    const bool last = finished();
    if (o.eval_games() > 0 && (p.iteration % o.eval_every() == 0 || last)) evaluate();
    if (last || std::chrono::duration<double>(std::chrono::steady_clock::now() - last_checkpoint).count() >
                    60 * o.checkpoint_minutes()) {
      save(dir / "checkpoints" / "last.ckpt", true);
      last_checkpoint = std::chrono::steady_clock::now();
    }
  }
  write_curves(dir);

  AlphaZeroSummary s{dir,
                     p.iteration,
                     p.games,
                     p.positions,
                     p.steps,
                     p.seconds / 3600,
                     p.elo,
                     p.best_elo,
                     p.selfplay_seconds > 0 ? static_cast<double>(p.positions) / p.selfplay_seconds : 0.0};
  nlohmann::json j;
  j["game"] = o.game();
  j["iterations"] = s.iterations;
  j["games"] = s.games;
  j["positions"] = s.positions;
  j["learner_steps"] = s.steps;
  j["training_hours"] = s.hours;
  j["selfplay_positions_per_s"] = s.positions_per_second;
  j["elo"] = std::isfinite(s.elo) ? nlohmann::json(s.elo) : nlohmann::json();
  j["best_elo"] = std::isfinite(s.best_elo) ? nlohmann::json(s.best_elo) : nlohmann::json();
  j["n_threads"] = o.n_threads();
  j["actors"] = o.actors();
  j["ranks"] = core::dist_world_size();
  core::atomic_write_text(dir / "summary.json", j.dump(2) + "\n");
  return s;
}

}  // namespace

AlphaZeroSummary train_alphazero(const core::Config& resolved, const fs::path& out) {
  const auto game = resolved.get<std::string>("game", "game");
  if (core::dist_rank() > 0) return run(resolved, out, false);  // an actor: rank 0 writes the run
  const auto dir = core::create_run_dir(out, "alphazero-" + game);
  fs::create_directories(dir / "checkpoints");
  core::atomic_write_text(dir / "config.yaml", resolved.dump());
  return run(resolved, dir, false);
}

AlphaZeroSummary resume_alphazero(const fs::path& dir, std::int64_t iterations) {
  core::require_run_dir(dir);
  if (!fs::exists(dir / "checkpoints" / "last.ckpt"))
    throw Error("run '" + dir.string() + "' has no checkpoints/last.ckpt to resume from");
  auto cfg = resolve_alphazero_config(core::Config::load(dir / "config.yaml"));
  if (iterations < 0) throw Error(fmt::format("--steps {}: expected > 0 (iterations to add)", iterations));
  if (iterations > 0) {
    core::CheckpointReader check(dir / "checkpoints" / "last.ckpt");
    cfg.set("iterations", YAML::Node(check.get_int("iteration") + iterations));
    if (core::dist_rank() == 0) core::atomic_write_text(dir / "config.yaml", cfg.dump());
  }
  return run(cfg, dir, true);
}

TrainedNetwork load_alphazero(const fs::path& path) {
  fs::path file = path;
  if (fs::is_directory(path)) {
    file = path / "checkpoints" / "best.ckpt";
    if (!fs::exists(file)) file = path / "checkpoints" / "last.ckpt";
    if (!fs::exists(file))
      throw Error("'" + path.string() +
                  "' has no checkpoints/best.ckpt or last.ckpt: expected an AlphaZero run");
  }
  core::CheckpointReader r(file);
  if (!r.has("kind") || r.get_string("kind") != "dojo-alphazero")
    throw Error("'" + file.string() +
                "' is not an AlphaZero checkpoint: expected a dojo train alphazero run");
  TrainedNetwork t;
  core::read_options(core::Config::parse(r.get_string("config"), file.string()), t.options);
  t.game = t.options.game();
  t.model = policy_value_network(*games::game(t.game), network_options(t.options));
  r.get("model", *t.model);
  t.model->eval();
  t.checkpoint = file;
  return t;
}

}  // namespace dojo::games
