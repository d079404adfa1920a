// dojo::Error is the one exception type for bad input: a wrong id, key, value, file or checkpoint.
// Its message names the bad value and what was expected; the CLI prints it and exits with code 2.
// Anything else thrown is a failure of dojo itself (exit code 1).
#pragma once
#include <stdexcept>
#include <string>

#include "core/export.h"

DOJO_PUBLIC_BEGIN
namespace dojo {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dojo

DOJO_PUBLIC_END
