// The results of the runs, bound as read-only classes: Python reads typed fields
// (checked by _core.pyi and the stub test) instead of dicts rebuilt by string keys.
// Every array field is a read-only NumPy view into the C++ result, which it keeps
// alive: nothing is copied on the way out.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>

#include "register.hpp"
#include "ttnn/additive.hpp"
#include "ttnn/flow.hpp"
#include "ttnn/limit.hpp"
#include "ttnn/ode.hpp"
#include "ttnn/sgd.hpp"

namespace py = pybind11;

namespace ttnn::bindings {

namespace {

// A read-only int64 view of a result's step (or epoch) counts, owned by `self`.
template <class Result>
auto counts_view(std::vector<std::int64_t> Result::*member) {
    return [member](const py::object& self) {
        const auto& v = self.cast<const Result&>().*member;
        py::array_t<std::int64_t> arr(static_cast<py::ssize_t>(v.size()), v.data(), self);
        py::detail::array_proxy(arr.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
        return arr;
    };
}

// An Eigen member as a read-only view owned by `self` (a const reference casts read-only).
template <class Result, class Member>
auto eigen_view(Member Result::*member) {
    return [member](const py::object& self) {
        return py::cast(self.cast<const Result&>().*member,
                        py::return_value_policy::reference_internal, self);
    };
}

}  // namespace

void register_results(py::module_& m) {
    py::class_<OdeStats>(m, "OdeStats")
        .def_readonly("accepted", &OdeStats::accepted)
        .def_readonly("rejected", &OdeStats::rejected)
        .def_readonly("rhs_calls", &OdeStats::rhs_calls);

    py::class_<SgdResult>(m, "SgdResult")
        .def_property_readonly("steps", counts_view(&SgdResult::steps))
        .def_property_readonly("a", eigen_view(&SgdResult::a))
        .def_property_readonly("u", eigen_view(&SgdResult::u))
        // None when the run had no target (replayed data without a loss).
        .def_property_readonly("l2", [](const py::object& self) -> py::object {
            if (self.cast<const SgdResult&>().l2.size() == 0) return py::none();
            return eigen_view(&SgdResult::l2)(self);
        });

    py::class_<FlowResult>(m, "FlowResult")
        .def_property_readonly("t", eigen_view(&FlowResult::t))
        .def_property_readonly("a", eigen_view(&FlowResult::a))
        .def_property_readonly("u", eigen_view(&FlowResult::u))
        .def_property_readonly("l2", eigen_view(&FlowResult::l2))
        .def_readonly("stats", &FlowResult::stats)
        // When method="auto" went implicit; negative when it did not.
        .def_readonly("stiff_from", &FlowResult::stiff_from);

    py::class_<LimitResult>(m, "LimitResult")
        .def_property_readonly("tau", eigen_view(&LimitResult::tau))
        .def_property_readonly("a", eigen_view(&LimitResult::a))
        .def_property_readonly("u", eigen_view(&LimitResult::u))
        .def_property_readonly("l2", eigen_view(&LimitResult::l2))
        // a*(u)'s condition estimate per snapshot (docs/maths/local_basis.md).
        .def_property_readonly("cond", eigen_view(&LimitResult::cond))
        .def_readonly("stats", &LimitResult::stats);

    // a and u are (K, m·d), row k holding the (m, d) matrix in row-major order.
    py::class_<AdditiveGdResult>(m, "GdResult")
        .def_property_readonly("epochs", counts_view(&AdditiveGdResult::epochs))
        .def_property_readonly("a", eigen_view(&AdditiveGdResult::a))
        .def_property_readonly("u", eigen_view(&AdditiveGdResult::u))
        .def_property_readonly("bias", eigen_view(&AdditiveGdResult::bias))
        .def_property_readonly("criterion", eigen_view(&AdditiveGdResult::criterion));
}

}  // namespace ttnn::bindings
