// The open-addressing index under the flow and mapping tables: keys live in records
// (here a vector of numbers), the index holds only their ids.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <vector>

#include "nat/record_index.hpp"

namespace gw::test {
namespace {

// Records 1..n whose keys are plain numbers, and a hash the test chooses, so that
// collisions and wrap-around are made on purpose.
struct Records {
    explicit Records(std::uint32_t max, std::uint64_t (*hash)(std::uint64_t)) : index(max), hash(hash), keys(max + 1) {}
    RecordIndex index;
    std::uint64_t (*hash)(std::uint64_t);
    std::vector<std::uint64_t> keys;

    void add(RecordIndex::Id id, std::uint64_t key) {
        keys[id] = key;
        index.insert(hash(key), id);
    }
    RecordIndex::Id find(std::uint64_t key) const {
        return index.find(hash(key), [&](RecordIndex::Id id) { return keys[id] == key; });
    }
    bool erase(RecordIndex::Id id) {
        return index.erase(hash(keys[id]), id, [&](RecordIndex::Id other) { return hash(keys[other]); });
    }
};

std::uint64_t same_slot(std::uint64_t) { return 0; }
// Home in the very last slot: probing wraps to the start of the table.
std::uint64_t last_slot(std::uint64_t) { return 0xffffffffULL; }
std::uint64_t mixed(std::uint64_t key) { return mix_hash(key); }

}  // namespace

TEST_CASE("records whose keys hash alike are all found, each under its own key") {
    Records r(16, same_slot);
    for (RecordIndex::Id id = 1; id <= 16; ++id) r.add(id, 100 + id);
    for (RecordIndex::Id id = 1; id <= 16; ++id) CHECK(r.find(100 + id) == id);
    CHECK(r.find(99) == 0);
    CHECK(r.index.size() == 16);
}

TEST_CASE("erasing from the middle of a run shifts the rest back, so none is lost") {
    Records r(8, same_slot);
    for (RecordIndex::Id id = 1; id <= 6; ++id) r.add(id, id * 10);
    CHECK(r.erase(3));
    CHECK(r.find(30) == 0);
    for (RecordIndex::Id id : {1u, 2u, 4u, 5u, 6u}) CHECK(r.find(id * 10) == id);
    CHECK(r.erase(1));
    CHECK(r.erase(6));
    for (RecordIndex::Id id : {2u, 4u, 5u}) CHECK(r.find(id * 10) == id);
    CHECK(r.index.size() == 3);
}

TEST_CASE("a run that wraps past the end of the table is found and erased like any other") {
    Records r(8, last_slot);
    for (RecordIndex::Id id = 1; id <= 5; ++id) r.add(id, id);
    CHECK(r.erase(1));  // the one in the last slot: the wrapped ones move back over the edge
    for (RecordIndex::Id id = 2; id <= 5; ++id) CHECK(r.find(id) == id);
    CHECK(r.erase(4));
    CHECK(r.find(5) == 5);
    CHECK(r.find(2) == 2);
}

TEST_CASE("erasing an id that another record replaced under the key changes nothing") {
    Records r(4, mixed);
    r.add(1, 7);
    r.keys[2] = 7;
    CHECK(r.index.replace(mixed(7), 1, 2));
    CHECK(r.find(7) == 2);
    CHECK_FALSE(r.erase(1));
    CHECK(r.find(7) == 2);
}

TEST_CASE("a table filled to its maximum finds every record, and empties for reuse") {
    const std::uint32_t max = 1000;
    Records r(max, mixed);
    for (int round = 0; round < 3; ++round) {
        for (RecordIndex::Id id = 1; id <= max; ++id) r.add(id, id * 7919ULL + round);
        REQUIRE(r.index.size() == max);
        for (RecordIndex::Id id = 1; id <= max; ++id) REQUIRE(r.find(id * 7919ULL + round) == id);
        for (RecordIndex::Id id = 1; id <= max; ++id) REQUIRE(r.erase(id));
        CHECK(r.index.size() == 0);
        CHECK(r.find(7919ULL + round) == 0);
    }
}

TEST_CASE("random inserts and erases agree with a std::map at every step") {
    const std::uint32_t max = 500;
    // A weak hash (few distinct slots) makes long runs, the hard case for deletion.
    Records r(max, [](std::uint64_t key) { return mix_hash(key % 37); });
    std::map<std::uint64_t, RecordIndex::Id> reference;
    std::vector<RecordIndex::Id> free_ids;
    for (RecordIndex::Id id = max; id >= 1; --id) free_ids.push_back(id);
    std::mt19937 random(42);
    for (int step = 0; step < 20000; ++step) {
        std::uint64_t key = random() % 800;
        auto known = reference.find(key);
        if (known == reference.end() && !free_ids.empty()) {
            RecordIndex::Id id = free_ids.back();
            free_ids.pop_back();
            r.add(id, key);
            reference[key] = id;
        } else if (known != reference.end()) {
            REQUIRE(r.erase(known->second));
            free_ids.push_back(known->second);
            reference.erase(known);
        }
        std::uint64_t probe = random() % 800;
        auto expected = reference.find(probe);
        REQUIRE(r.find(probe) == (expected == reference.end() ? 0 : expected->second));
    }
    CHECK(r.index.size() == reference.size());
}

}  // namespace gw::test
