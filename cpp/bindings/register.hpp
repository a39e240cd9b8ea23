// One registration function per concept; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace ttnn::bindings {

void register_results(pybind11::module_& m);
void register_activation(pybind11::module_& m);
void register_target(pybind11::module_& m);
void register_network(pybind11::module_& m);
void register_loss(pybind11::module_& m);
void register_sgd(pybind11::module_& m);
void register_additive(pybind11::module_& m);
void register_flow(pybind11::module_& m);
void register_ensemble(pybind11::module_& m);
void register_circle(pybind11::module_& m);

}  // namespace ttnn::bindings
