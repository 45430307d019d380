// Expected<T, E>: a value, or the reason there is none. The one convention for a failure
// the caller is meant to handle (a config key, a SOAP argument, a lease line, a refused
// mapping): STYLE.md guideline 5. Exceptions stay for what cannot go on (StartupError).
//
// Debian 12's g++ 12 has no std::expected and Debian packages no tl-expected, so this is
// the small subset of C++23's std::expected the code uses, with the same names, so that
// moving to the standard one later is a search and replace:
//
//   Expected<Port, Error> parse_port(std::string_view text);
//   if (auto port = parse_port(text)) use(*port); else log(port.error().message);
//   return unexpected(Error{"port out of range"});
//
// E defaults to Error, a message meant for a person; a front end with its own reasons
// (MappingRefusal, a UPnP error code) uses its own type as E.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace gw {

// A failure told to a person: the whole sentence, with its position when there is one
// ("gateway.yaml:3:5: unknown key 'prot'").
struct Error {
    std::string message;
    friend bool operator==(const Error&, const Error&) = default;
};

template <class E>
class Unexpected {
public:
    explicit Unexpected(E error) : error_(std::move(error)) {}
    const E& error() const& { return error_; }
    E&& error() && { return std::move(error_); }

private:
    E error_;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
    return Unexpected<std::decay_t<E>>(std::forward<E>(error));
}

template <class T, class E = Error>
class [[nodiscard]] Expected {
    static_assert(!std::is_same_v<T, E>, "a value and its error must be told apart by type");

public:
    Expected() requires std::is_default_constructible_v<T> : state_(std::in_place_index<0>) {}
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    template <class G>
    Expected(Unexpected<G> failure) : state_(std::in_place_index<1>, std::move(failure).error()) {}

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    // Only when has_value(): reading the value of a failure is a bug (std::get throws).
    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }

    // Only when !has_value().
    const E& error() const& { return std::get<1>(state_); }
    E& error() & { return std::get<1>(state_); }
    E&& error() && { return std::get<1>(std::move(state_)); }

private:
    std::variant<T, E> state_;
};

// Success that carries nothing but may fail: Expected<void> { return {}; } or an unexpected.
template <class E>
class [[nodiscard]] Expected<void, E> {
public:
    Expected() = default;
    template <class G>
    Expected(Unexpected<G> failure) : error_(std::move(failure).error()), failed_(true) {}

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return has_value(); }
    const E& error() const& { return error_; }
    E&& error() && { return std::move(error_); }

private:
    E error_{};
    bool failed_ = false;
};

}  // namespace gw
