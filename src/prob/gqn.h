// A small GQN (Eslami et al. 2018, "Neural scene representation and rendering"): a representation
// network turns each context image and its camera pose into r, summed over the views; a generator of
// L convolutional-LSTM steps draws a latent z_l per step (prior π(z|h_g), posterior q(z|h_q) from an
// inference core that also sees the query image) and adds each step's upsampled state to a canvas u;
// the query view is Normal(η(u), σ) with σ annealed by the trainer. Written with prob:
//   mean(E_f(r|x_ctx,v_ctx)[sum_(t=1..L)[E_f_u(...)[D_KL[q(z|s_q_next)||pi(z|s_g)]]] − log p(x_q|u)])
// Sized for a CPU: 32 × 32 images, the cores at 8 × 8 with 32 channels, 4 latent channels.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>

#include "core/export.h"
#include "prob/loss.h"

DOJO_PUBLIC_BEGIN
namespace dojo::prob {

struct GqnOptions {
  std::int64_t image_size = 32;  // square RGB images in [0, 1], channels first
  std::int64_t pose_dim = 7;     // x, y, z, cos/sin yaw, cos/sin pitch
  std::int64_t r_channels = 64;  // the scene representation at image_size / 4
  std::int64_t hidden = 32;      // channels of each convolutional LSTM
  std::int64_t z_channels = 4;
  std::int64_t u_channels = 16;  // the canvas, at full resolution
  std::int64_t steps = 6;        // L generation steps (GQN: 12)
};

class GqnImpl : public torch::nn::Module {
 public:
  explicit GqnImpl(GqnOptions o = {});
  const GqnOptions& options() const { return o_; }

  // The loss's input: context images [B, K, 3, S, S] with their poses [B, K, pose], the query image
  // [B, 3, S, S] and pose [B, pose]; zero core states and canvas.
  Dict batch(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx, const torch::Tensor& x_q,
             const torch::Tensor& v_q) const;
  // mean over scenes of the negative ELBO (nats per query image).
  const Loss& loss() const { return loss_; }
  // The pixel noise σ of p(x_q|u): GQN anneals it (here from 0.5 to 0.1) as training proceeds.
  void set_sigma(double sigma);
  double sigma() const { return sigma_; }

  // The query view rendered from the context alone: the mean η(u) with each z_l drawn from the prior,
  // averaged over `samples` draws; [B, 3, S, S].
  torch::Tensor render(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx, const torch::Tensor& v_q,
                       std::int64_t samples = 1);

  DistPtr representation() const { return representation_; }  // r | x_ctx, v_ctx (Deterministic)
  DistPtr inference() const { return inference_; }            // s_q_next | x_q, v_q, r, s_q, s_g
  DistPtr q() const { return q_; }                            // z | s_q_next
  DistPtr prior() const { return prior_; }                    // z | s_g: π
  DistPtr generator() const { return generator_; }            // s_g_next | z, v_q, r, s_g
  DistPtr canvas() const { return canvas_; }                  // u_next | u, s_g_next
  DistPtr p() const { return p_; }                            // x_q | u
  std::vector<DistPtr> distributions() const {
    return {representation_, inference_, q_, prior_, generator_, canvas_, p_};
  }

 private:
  torch::Tensor represent(const torch::Tensor& x_ctx, const torch::Tensor& v_ctx);
  torch::Tensor conv_lstm(torch::nn::Conv2d& gates, const torch::Tensor& input,
                          const torch::Tensor& state) const;
  torch::Tensor broadcast_pose(const torch::Tensor& v) const;  // [B, pose] -> [B, pose, S/4, S/4]
  std::vector<torch::Tensor> normal_params(torch::nn::Conv2d& head, const torch::Tensor& state) const;

  GqnOptions o_;
  std::int64_t cell_ = 8;  // the cores' resolution, image_size / 4
  double sigma_ = 0.5;
  torch::nn::Sequential repr_a_{nullptr}, repr_b_{nullptr};
  torch::nn::Conv2d read_query_{nullptr}, inference_gates_{nullptr}, generator_gates_{nullptr};
  torch::nn::Conv2d q_head_{nullptr}, prior_head_{nullptr}, eta_{nullptr};
  torch::nn::ConvTranspose2d write_{nullptr};
  DistPtr representation_, inference_, q_, prior_, generator_, canvas_, p_;
  Loss loss_{0.0};
};
TORCH_MODULE(Gqn);

}  // namespace dojo::prob

DOJO_PUBLIC_END
