// The built-in layer types, registered for layer_from_config (loading saved models).
namespace dojo::nn {

void register_core_layers();
void register_conv_layers();
void register_normalization_layers();
void register_merge_layers();
void register_recurrent_layers();
void register_attention_layers();
void register_model_types();

void register_builtin_layers() {
  register_core_layers();
  register_conv_layers();
  register_normalization_layers();
  register_merge_layers();
  register_recurrent_layers();
  register_attention_layers();
  register_model_types();
}

}  // namespace dojo::nn
