// A registry of named entries (env ids, algorithms): one instance per process (it lives in a shared
// library), a lock around every access, and errors that name the unknown entry, the closest known
// ones and all of them. Built-ins are added on first use by `seed`, not by static initialisers.
#pragma once
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/export.h"
#include "core/strings.h"

DOJO_PUBLIC_BEGIN
namespace dojo::core {

template <class Entry>
class Registry {
 public:
  // `what` names an entry in errors ("env id", "algorithm"); `seed` adds the built-ins.
  Registry(std::string what, const std::function<void(Registry&)>& seed) : what_(std::move(what)) {
    if (seed) seed(*this);
  }

  // Adds or replaces an entry.
  void add(const std::string& name, Entry entry) {
    const std::lock_guard lock(mutex_);
    entries_.insert_or_assign(name, std::move(entry));
  }

  // Sorted names.
  std::vector<std::string> names() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [name, _] : entries_) out.push_back(name);
    return out;
  }

  // The entry (stable: entries are never removed); dojo::Error for an unknown name.
  const Entry& get(const std::string& name) const {
    {
      const std::lock_guard lock(mutex_);
      const auto it = entries_.find(name);
      if (it != entries_.end()) return it->second;
    }
    const auto known = names();
    throw Error("unknown " + what_ + " '" + name + "'" + did_you_mean(name, known) +
                "; expected one of: " + join(known, ", "));
  }

 private:
  std::string what_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace dojo::core
DOJO_PUBLIC_END
