// Module limits, checked while streaming through the binary (before any IR exists), and
// freeing the IR without recursion.
#include "engine/shape.h"

#include <optional>
#include <utility>
#include <vector>

#include "engine/ir_walk.h"
#include "runtime/runtime.h"
#include "wabt/binary-reader-nop.h"
#include "wabt/binary-reader.h"

namespace wasm_sandbox::engine {
namespace {

using wabt::Index;
using wabt::Result;

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// Counts as wabt's reader goes, and stops it at the first limit passed. Memory use is
// constant whatever the module holds.
class ShapeScanner final : public wabt::BinaryReaderNop {
 public:
  static constexpr uint64_t kMalformedLocals = 0x10000000;  // WABT's bound, as V8's

  ShapeScanner(const Limits& limits, std::string_view name) : limits_(limits), name_(name) {}

  // The limit passed, if the scan stopped at one (else the bytes are malformed, or fine).
  std::optional<Error> problem;

  // The reader's first complaint about malformed bytes (the scan stops there).
  std::optional<wabt::Error> malformed;
  bool OnError(const wabt::Error& error) override {
    if (!malformed) malformed = error;
    return true;
  }

  Result OnImportFunc(Index, std::string_view, std::string_view, Index, Index) override {
    ++functions_;
    return Result::Ok;
  }
  Result OnFunctionCount(Index count) override {
    functions_ += count;
    if (functions_ > limits_.functions) {
      return fail("the module has", functions_, " functions", limits_.functions, "functions");
    }
    return Result::Ok;
  }
  Result BeginFunctionBody(Index index, wabt::Offset) override {
    function_ = index;
    in_body_ = true;
    locals_ = instructions_ = 0;
    depth_ = 0;
    return Result::Ok;
  }
  Result OnLocalDecl(Index, Index count, wabt::Type) override {
    locals_ += count;
    // More than the binary format allows is malformed, not over a limit: the reader says so.
    if (locals_ >= kMalformedLocals) return Result::Ok;
    if (locals_ > limits_.locals) {
      return fail(which() + " has", locals_, " locals", limits_.locals, "locals");
    }
    return Result::Ok;
  }
  Result OnOpcode(wabt::Opcode opcode) override {
    if (!in_body_ || opcode == wabt::Opcode::End || opcode == wabt::Opcode::Else) {
      return Result::Ok;
    }
    if (++instructions_ > limits_.function_instructions) {
      return beyond(which() + " has more instructions than", limits_.function_instructions,
                    "function_instructions");
    }
    return Result::Ok;
  }
  // Constant expressions (global initializers, segment offsets) may hold no control flow;
  // WABT's IR builder asserts on a block there, so the scan refuses it first.
  Result BeginGlobalInitExpr(Index) override { return begin_const(); }
  Result EndGlobalInitExpr(Index) override { return end_const(); }
  Result BeginElemSegmentInitExpr(Index) override { return begin_const(); }
  Result EndElemSegmentInitExpr(Index) override { return end_const(); }
  Result BeginDataSegmentInitExpr(Index) override { return begin_const(); }
  Result EndDataSegmentInitExpr(Index) override { return end_const(); }

  Result OnBlockExpr(wabt::Type) override { return enter(); }
  Result OnLoopExpr(wabt::Type) override { return enter(); }
  Result OnIfExpr(wabt::Type) override { return enter(); }
  Result OnTryExpr(wabt::Type) override { return enter(); }
  Result OnEndExpr() override {
    if (depth_ > 0) --depth_;
    return Result::Ok;
  }
  Result OnBrTableExpr(Index targets, Index*, Index) override {
    if (targets > limits_.br_table_targets) {
      return fail(which() + " has a br_table of", targets, " targets", limits_.br_table_targets,
                  "br_table_targets");
    }
    return Result::Ok;
  }
  Result EndFunctionBody(Index) override {
    in_body_ = false;
    // Generated code keeps every local and operand-stack slot in its own frame slot
    // (parameters are bounded by the locals limit, and the guard keeps a factor 2 spare).
    const uint64_t frame = 16 * (locals_ + instructions_);
    constexpr uint64_t kGuarded = runtime::kGuestStackGuard / 2;
    if (frame > kGuarded) {
      problem = Error(ErrorKind::LimitExceeded,
                      name_ + ": " + which() + " could need " + mib(frame) +
                          " of stack for one call, more than the " + mib(kGuarded) +
                          " the stack guard covers (lower Limits::locals or "
                          "Limits::function_instructions)");
      return Result::Error;
    }
    return Result::Ok;
  }

 private:
  Result begin_const() {
    in_const_ = true;
    return Result::Ok;
  }
  Result end_const() {
    in_const_ = false;
    return Result::Ok;
  }

  Result enter() {
    if (in_const_) {
      problem = Error(ErrorKind::InvalidModule,
                      name_ + ": a constant expression contains a block, loop, if or try");
      return Result::Error;
    }
    if (++depth_ > limits_.nesting_depth) {
      return beyond(which() + " nests blocks deeper than", limits_.nesting_depth, "nesting_depth");
    }
    return Result::Ok;
  }

  // "<before> <value><after>, more than the limit of <limit> (Limits::<field>)"
  Result fail(const std::string& before, uint64_t value, const char* after, uint64_t limit,
              const char* field) {
    problem =
        Error(ErrorKind::LimitExceeded, name_ + ": " + before + " " + std::to_string(value) +
                                            after + ", more than the limit of " +
                                            std::to_string(limit) + " (Limits::" + field + ")");
    return Result::Error;
  }

  // "<what> the limit of <limit> (Limits::<field>)": where the scan stops before the end.
  Result beyond(const std::string& what, uint64_t limit, const char* field) {
    problem =
        Error(ErrorKind::LimitExceeded, name_ + ": " + what + " the limit of " +
                                            std::to_string(limit) + " (Limits::" + field + ")");
    return Result::Error;
  }

  std::string which() const { return "function " + std::to_string(function_); }

  const Limits& limits_;
  std::string name_;
  uint64_t functions_ = 0;
  Index function_ = 0;
  bool in_body_ = false;
  bool in_const_ = false;
  uint64_t locals_ = 0;
  uint64_t instructions_ = 0;
  uint64_t depth_ = 0;
};

}  // namespace

wasm_sandbox::Result<bool> prescan(std::span<const uint8_t> bytes, const Limits& limits,
                                   std::string_view name, wabt::Error* malformed) {
  ShapeScanner scanner(limits, name);
  wabt::ReadBinaryOptions options(wabt::Features(), nullptr, /*read_debug_names=*/false,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/true);
  const bool read =
      wabt::Succeeded(wabt::ReadBinary(bytes.data(), bytes.size(), &scanner, options));
  if (scanner.problem) return std::move(*scanner.problem);
  if (read) return true;
  if (scanner.malformed) *malformed = *scanner.malformed;
  return false;
}

Status check_locals(const wabt::Module& ir, const Limits& limits, std::string_view name) {
  for (size_t index = ir.num_func_imports; index < ir.funcs.size(); ++index) {
    const uint64_t locals = ir.funcs[index]->GetNumParamsAndLocals();
    if (locals > limits.locals) {
      return Error(ErrorKind::LimitExceeded,
                   std::string(name) + ": function " + std::to_string(index) + " has " +
                       std::to_string(locals) + " locals, more than the limit of " +
                       std::to_string(limits.locals) + " (Limits::locals)");
    }
  }
  return {};
}

void release_ir(std::unique_ptr<wabt::Module> ir) {
  if (!ir) return;
  // Move every nested list out of its parent before the parent dies, so that no destructor
  // finds anything nested below it.
  std::vector<wabt::ExprList> work;
  for (wabt::Func* func : ir->funcs) work.push_back(std::move(func->exprs));
  while (!work.empty()) {
    wabt::ExprList list = std::move(work.back());
    work.pop_back();
    for (wabt::Expr& expr : list) {
      for_each_child_list(expr, [&](wabt::ExprList& child) {
        if (!child.empty()) work.push_back(std::move(child));
      });
    }
  }
  ir.reset();
}

}  // namespace wasm_sandbox::engine
