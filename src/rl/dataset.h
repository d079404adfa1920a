// Offline (batch) RL datasets: transitions with their episode boundaries, in memory and on disk in the
// two layouts users have files in (d3rlpy and D4RL keep `terminals` and `timeouts` apart; so do we):
//
//   D4RL (one HDF5 file):  observations [N, obs], actions [N, act], rewards [N], terminals [N] bool,
//                          timeouts [N] bool, next_observations [N, obs], infos/* [N, ...], metadata/*
//   Minari 0.5 (a folder): data/metadata.json + data/main_data.hdf5 with groups episode_{i}:
//                          observations [T+1, obs], actions [T, act], rewards [T], terminations [T],
//                          truncations [T]; attributes id, total_steps (and seed)
//
// `terminals` ends an episode without bootstrapping; `timeouts` ends it at a time limit, which still
// bootstraps (Gymnasium's terminated vs truncated). Every bad file is a dojo::Error naming the file and
// the key; files are written to a temporary name and renamed, so a failed write leaves nothing behind.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/export.h"
#include "envs/env.h"
#include "rl/replay.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

struct OfflineDataset {
  torch::Tensor observations;                   // [N, *obs] float32
  torch::Tensor actions;                        // [N, *act] float32, in the env's units
  torch::Tensor rewards;                        // [N] float32
  torch::Tensor next_observations;              // [N, *obs] float32
  torch::Tensor terminals;                      // [N] bool: the episode ended in a terminal state
  torch::Tensor timeouts;                       // [N] bool: the episode was cut by a time limit
  std::map<std::string, torch::Tensor> infos;   // per transition, [N, ...] (D4RL's infos/*)
  std::map<std::string, std::string> metadata;  // env_id, mix, policy, ... (D4RL's metadata/*)

  std::int64_t size() const { return rewards.defined() ? rewards.size(0) : 0; }
  // The env the data came from (metadata "env_id"), or "" when the file does not say.
  std::string env_id() const;
  // Throws dojo::Error naming `where` and the key for missing arrays, mismatched lengths, NaNs or
  // infinities, wrong dtypes or ranks.
  void validate(const std::string& where) const;
};

// Episodes as [begin, end) row ranges, cut after each terminal or timeout; rows after the last one
// form a last, unfinished episode.
struct EpisodeRange {
  std::int64_t begin = 0, end = 0;
  bool finished = false;  // ended by a terminal or a timeout
};
std::vector<EpisodeRange> episodes(const OfflineDataset& data);

// The layout of a path: a folder (or a metadata.json) is Minari's, anything else D4RL's HDF5.
enum class DatasetLayout { d4rl, minari };
DatasetLayout layout_of(const std::filesystem::path& path);

OfflineDataset read_d4rl(const std::filesystem::path& file);
// D4RL's dtypes: float32 arrays, bool terminals and timeouts (HDF5 enums, as h5py writes numpy bools).
void write_d4rl(const OfflineDataset& data, const std::filesystem::path& file);
// `dir` is the dataset's folder (holding data/) or its data/ folder itself.
OfflineDataset read_minari(const std::filesystem::path& dir);
// Writes dir/data/metadata.json and dir/data/main_data.hdf5 (Minari 0.5.3's keys and groups): the
// folder is built beside `dir` and renamed into place.
void write_minari(const OfflineDataset& data, const std::filesystem::path& dir);
// Either layout, by layout_of.
OfflineDataset read_dataset(const std::filesystem::path& path);
void write_dataset(const OfflineDataset& data, const std::filesystem::path& path);

// What a run needs to check a dataset against its env before loading it: the shapes and the env id.
struct DatasetShape {
  std::int64_t size = 0;
  std::vector<std::int64_t> obs_shape, action_shape;
  std::string env_id;
};
DatasetShape dataset_shape(const std::filesystem::path& path);
// The dataset against an env's spaces: Box observations and actions of the same shapes, and the same
// env id when the dataset names one. Throws dojo::Error naming the file.
void check_dataset_fits(const DatasetShape& shape, const std::filesystem::path& path, const envs::Env& env);

// D4RL's normalised score, 100 · (R − R_random) / (R_expert − R_random), with D4RL's reference returns
// for HalfCheetah, Hopper and Walker2d (any version); nullopt for other envs.
std::optional<double> normalized_score(const std::string& env_id, double episode_return);
struct ReferenceReturns {
  double random = 0, expert = 0;
};
std::optional<ReferenceReturns> reference_returns(const std::string& env_id);

// Return statistics of a dataset's finished episodes.
struct DatasetStats {
  std::int64_t transitions = 0, episodes = 0, finished = 0, terminals = 0, timeouts = 0;
  double mean_return = 0, std_return = 0, min_return = 0, max_return = 0, mean_length = 0;
  std::optional<double> normalized;  // mean_return's normalised score
};
DatasetStats dataset_stats(const OfflineDataset& data);

// Uniform minibatches of transitions for the offline agents: actions rescaled to the policies'
// [-1, 1] (by `low`, `high`) once, at construction; `terminated` from terminals only, so a timeout
// bootstraps.
class TransitionSampler {
 public:
  TransitionSampler(const OfflineDataset& data, const envs::Box& action_space);
  Batch sample(std::int64_t batch_size, std::mt19937_64& rng) const;
  std::int64_t size() const { return obs_.size(0); }
  const torch::Tensor& unit_actions() const { return actions_; }

 private:
  torch::Tensor obs_, actions_, rewards_, next_obs_, terminated_;
};

}  // namespace dojo::rl

DOJO_PUBLIC_END
