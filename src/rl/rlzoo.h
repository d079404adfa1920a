// RL Baselines3 Zoo's hyper-parameter files, read as they are (hyperparams/<algo>.yml): a top-level
// mapping from env id (or `atari`) to settings in SB3's words, e.g.
//
//   CartPole-v1:
//     n_envs: 8
//     n_timesteps: !!float 1e5
//     policy: 'MlpPolicy'
//     learning_rate: lin_0.001
//     policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.Tanh)"
//     normalize: true
//
// from_rl_zoo picks the entry for an env and writes it in dojo's keys: `lin_<v>` becomes the value and
// a linear schedule (learning_rate -> lr_schedule, clip_range -> clip_range_schedule), policy_kwargs'
// net_arch/activation_fn/ortho_init/log_std_init their keys, `normalize` the two normalisation keys,
// `policy: CnnPolicy` the Nature CNN, AtariWrapper (with frame_stack 4) `atari_wrappers`. What dojo
// cannot honour is an error naming the key, never silently dropped.
#pragma once
#include <string>

#include "core/config.h"
#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo::rl {

// True when every top-level value of `file` is a mapping (RL Zoo's layout, not a flat dojo config).
bool is_rl_zoo_file(const core::Config& file);
// The entry for env_id (or, for a pixel env, RL Zoo's `atari` entry) in dojo's keys for `algo`, with
// algo and env_id set. Throws dojo::Error naming `source` when there is no entry or a key cannot be
// translated.
core::Config from_rl_zoo(const core::Config& file, const std::string& env_id, const std::string& algo,
                         const std::string& source);

}  // namespace dojo::rl

DOJO_PUBLIC_END
