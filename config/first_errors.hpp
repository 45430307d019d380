// The errors a load reports: the first max_reported_config_errors in file order, and
// how many more. Internal to config/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <tuple>
#include <vector>

#include "config/gateway_config.hpp"
#include "config/printable_text.hpp"

namespace gw {

// The first max_reported_config_errors errors in file order (errors at one position in
// the order they were found), and how many others: a file with 200 000 errors keeps 50
// of them, not 200 000 strings. A max-heap whose top is the one to drop next. A message
// kept is made printable here, so none carries the file's raw bytes to a terminal.
class FirstErrors {
public:
    void add(ConfigError error) {
        Entry entry{std::move(error), found_++};
        bool full = kept_.size() == max_reported_config_errors;
        if (full) ++more_;
        if (full && !before(entry, kept_.front())) return;
        entry.error.message = printable_text(entry.error.message);
        if (full) {
            std::pop_heap(kept_.begin(), kept_.end(), before);
            kept_.pop_back();
        }
        kept_.push_back(std::move(entry));
        std::push_heap(kept_.begin(), kept_.end(), before);
    }
    // Whether add(error) would keep it (its message is then wanted) or only count it.
    bool keeps(const ConfigError& error) const {
        if (kept_.size() < max_reported_config_errors) return true;
        const Entry& last = kept_.front();
        return std::tie(error.line, error.column, found_) < std::tie(last.error.line, last.error.column, last.order);
    }
    bool empty() const { return kept_.empty(); }
    std::size_t more() const { return more_; }
    std::vector<ConfigError> take() && {
        std::sort_heap(kept_.begin(), kept_.end(), before);
        std::vector<ConfigError> errors;
        for (Entry& entry : kept_) errors.push_back(std::move(entry.error));
        return errors;
    }

private:
    struct Entry {
        ConfigError error;
        std::size_t order;
    };
    static bool before(const Entry& a, const Entry& b) {
        return std::tie(a.error.line, a.error.column, a.order) < std::tie(b.error.line, b.error.column, b.order);
    }
    std::vector<Entry> kept_;
    std::size_t found_ = 0;
    std::size_t more_ = 0;
};

}  // namespace gw
