#include "control_json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gw {
namespace {

constexpr int max_depth = 32;

class Parser {
public:
    explicit Parser(std::string_view text) : s_(text) {}

    std::optional<JsonValue> document() {
        auto v = value(0);
        skip_space();
        if (!v || i_ != s_.size()) return std::nullopt;
        return v;
    }

private:
    void skip_space() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }
    bool eat(char c) {
        skip_space();
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    bool literal(std::string_view word) {
        if (s_.substr(i_, word.size()) != word) return false;
        i_ += word.size();
        return true;
    }

    std::optional<JsonValue> value(int depth) {
        if (depth > max_depth) return std::nullopt;
        skip_space();
        if (i_ >= s_.size()) return std::nullopt;
        char c = s_[i_];
        if (c == '"') {
            auto text = string();
            if (!text) return std::nullopt;
            return JsonValue{std::move(*text)};
        }
        if (c == '[') return array(depth);
        if (c == '{') return object(depth);
        if (literal("true")) return JsonValue{true};
        if (literal("false")) return JsonValue{false};
        if (literal("null")) return JsonValue{nullptr};
        return number();
    }

    std::optional<JsonValue> number() {
        std::size_t start = i_;
        while (i_ < s_.size() && std::string_view("+-0123456789.eE").find(s_[i_]) != std::string_view::npos) ++i_;
        if (start == i_) return std::nullopt;
        std::string text(s_.substr(start, i_ - start));
        char* end = nullptr;
        double d = std::strtod(text.c_str(), &end);
        if (end != text.c_str() + text.size() || !std::isfinite(d)) return std::nullopt;
        return JsonValue{d};
    }

    std::optional<JsonValue> array(int depth) {
        ++i_;
        JsonValue::Array items;
        if (eat(']')) return JsonValue{std::move(items)};
        do {
            auto v = value(depth + 1);
            if (!v) return std::nullopt;
            items.push_back(std::move(*v));
        } while (eat(','));
        if (!eat(']')) return std::nullopt;
        return JsonValue{std::move(items)};
    }

    std::optional<JsonValue> object(int depth) {
        ++i_;
        JsonValue::Object members;
        if (eat('}')) return JsonValue{std::move(members)};
        do {
            skip_space();
            if (i_ >= s_.size() || s_[i_] != '"') return std::nullopt;
            auto key = string();
            if (!key || !eat(':')) return std::nullopt;
            auto v = value(depth + 1);
            if (!v) return std::nullopt;
            members.emplace_back(std::move(*key), std::move(*v));
        } while (eat(','));
        if (!eat('}')) return std::nullopt;
        return JsonValue{std::move(members)};
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xc0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += char(0xe0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        } else {
            out += char(0xf0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3f));
            out += char(0x80 | ((cp >> 6) & 0x3f));
            out += char(0x80 | (cp & 0x3f));
        }
    }

    std::optional<std::uint32_t> hex4() {
        if (i_ + 4 > s_.size()) return std::nullopt;
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char c = s_[i_++];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return std::nullopt;
            v = v * 16 + std::uint32_t(d);
        }
        return v;
    }

    std::optional<std::string> string() {
        ++i_;  // the opening quote
        std::string out;
        while (i_ < s_.size()) {
            char c = s_[i_++];
            if (c == '"') return out;
            if (std::uint8_t(c) < 0x20) return std::nullopt;
            if (c != '\\') {
                out += c;
                continue;
            }
            if (i_ >= s_.size()) return std::nullopt;
            char e = s_[i_++];
            switch (e) {
                case '"': case '\\': case '/': out += e; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    auto cp = hex4();
                    if (!cp) return std::nullopt;
                    if (*cp >= 0xd800 && *cp < 0xdc00) {
                        if (!literal("\\u")) return std::nullopt;
                        auto low = hex4();
                        if (!low || *low < 0xdc00 || *low > 0xdfff) return std::nullopt;
                        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*low - 0xdc00);
                    } else if (*cp >= 0xdc00 && *cp <= 0xdfff) {
                        return std::nullopt;
                    }
                    append_utf8(out, *cp);
                    break;
                }
                default: return std::nullopt;
            }
        }
        return std::nullopt;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

const JsonValue* JsonValue::member(std::string_view key) const {
    if (const auto* o = object())
        for (const auto& [k, v] : *o)
            if (k == key) return &v;
    return nullptr;
}

std::optional<JsonValue> parse_json(std::string_view text) { return Parser(text).document(); }

std::string json_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (std::uint8_t(c) < 0x20 || c == 0x7f) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(std::uint8_t(c)));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string to_json(const JsonValue& value) {
    struct Render {
        std::string operator()(std::nullptr_t) const { return "null"; }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(double d) const {
            if (d == std::floor(d) && std::fabs(d) < 1e18) return std::to_string(std::int64_t(d));
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", d);
            return buf;
        }
        std::string operator()(const std::string& s) const { return json_quote(s); }
        std::string operator()(const JsonValue::Array& a) const {
            std::vector<std::string> items;
            for (const auto& v : a) items.push_back(to_json(v));
            return json_array(items);
        }
        std::string operator()(const JsonValue::Object& o) const {
            JsonObject out;
            for (const auto& [k, v] : o) out.add_raw(k, to_json(v));
            return out.str();
        }
    };
    return std::visit(Render{}, value.value);
}

void JsonObject::key(std::string_view k) {
    if (text_.size() > 1) text_ += ',';
    text_ += json_quote(k);
    text_ += ':';
}

JsonObject& JsonObject::add(std::string_view k, std::string_view text) {
    key(k);
    text_ += json_quote(text);
    return *this;
}

JsonObject& JsonObject::add(std::string_view k, std::uint64_t number) {
    key(k);
    text_ += std::to_string(number);
    return *this;
}

JsonObject& JsonObject::add(std::string_view k, std::int64_t number) {
    key(k);
    text_ += std::to_string(number);
    return *this;
}

JsonObject& JsonObject::add(std::string_view k, bool flag) {
    key(k);
    text_ += flag ? "true" : "false";
    return *this;
}

JsonObject& JsonObject::add_null(std::string_view k) {
    key(k);
    text_ += "null";
    return *this;
}

JsonObject& JsonObject::add_raw(std::string_view k, std::string_view json) {
    key(k);
    text_ += json;
    return *this;
}

std::string json_array(const std::vector<std::string>& elements) {
    std::string out = "[";
    for (std::size_t i = 0; i < elements.size(); ++i) out += (i ? "," : "") + elements[i];
    return out + "]";
}

}  // namespace gw
