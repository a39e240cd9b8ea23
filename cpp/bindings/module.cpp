// ttnn._core: the compiled core. Users never import it; python/ttnn wraps it.
#include "register.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "ttnn's compiled core (private: use the ttnn package)";
#ifdef _OPENMP
    m.attr("has_openmp") = true;
#else
    m.attr("has_openmp") = false;
#endif
    ttnn::bindings::register_activation(m);
    ttnn::bindings::register_target(m);
    ttnn::bindings::register_network(m);
    ttnn::bindings::register_loss(m);
    ttnn::bindings::register_sgd(m);
}
