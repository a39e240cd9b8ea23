#include "ttnn/activation.hpp"

namespace ttnn {

Activation parse_activation(const std::string& name) {
    if (name == "cubic") return Activation::cubic;
    if (name == "ramp") return Activation::ramp;
    if (name == "relu") return Activation::relu;
    throw std::invalid_argument("activation must be 'cubic', 'ramp' or 'relu', got '" + name + "'");
}

const char* activation_name(Activation act) {
    switch (act) {
        case Activation::cubic: return "cubic";
        case Activation::ramp: return "ramp";
        default: return "relu";
    }
}

}  // namespace ttnn
