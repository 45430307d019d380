// The little JSON the control socket speaks (requests, responses, gatewayctl's
// tables): a value tree, a strict parser for untrusted input (bounded depth), and
// writers that escape every string (RFC 8259 section 7). Written by hand: the messages
// are small and flat, and no JSON library is among the project's dependencies.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace gw {

struct JsonValue {
    using Array = std::vector<JsonValue>;
    using Object = std::vector<std::pair<std::string, JsonValue>>;  // in document order
    std::variant<std::nullptr_t, bool, double, std::string, Array, Object> value = nullptr;

    const std::string* string() const { return std::get_if<std::string>(&value); }
    const double* number() const { return std::get_if<double>(&value); }
    const Array* array() const { return std::get_if<Array>(&value); }
    const Object* object() const { return std::get_if<Object>(&value); }
    // The member named `key` of an object, or nullptr.
    const JsonValue* member(std::string_view key) const;
};

// nullopt on any syntax error, trailing garbage or nesting deeper than 32.
std::optional<JsonValue> parse_json(std::string_view text);
// Compact, numbers as integers when they are whole.
std::string to_json(const JsonValue& value);
// A JSON string literal, quotes included; control characters are escaped as \uXXXX,
// so no name or description can break the document or the line protocol.
std::string json_quote(std::string_view text);

// Builds one object as text, members in call order.
class JsonObject {
public:
    JsonObject& add(std::string_view key, std::string_view text);
    JsonObject& add(std::string_view key, const char* text) { return add(key, std::string_view(text)); }
    JsonObject& add(std::string_view key, std::uint64_t number);
    JsonObject& add(std::string_view key, std::int64_t number);
    JsonObject& add(std::string_view key, int number) { return add(key, std::int64_t(number)); }
    JsonObject& add(std::string_view key, bool flag);
    JsonObject& add_null(std::string_view key);
    JsonObject& add_raw(std::string_view key, std::string_view json);  // already JSON
    std::string str() const { return text_ + "}"; }

private:
    void key(std::string_view k);
    std::string text_ = "{";
};

// "[a,b,...]" from elements already rendered as JSON.
std::string json_array(const std::vector<std::string>& elements);

}  // namespace gw
