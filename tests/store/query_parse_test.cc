// The query language (Query::parse): what each form means, the text form round trip, and
// errors that name the column and the token.
#include <gtest/gtest.h>

#include "wasm_sandbox/store_query.h"

namespace wasm_sandbox::store {
namespace {

using json = nlohmann::json;

Query parsed(std::string_view text) {
  auto q = Query::parse(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.error().message();
  return q.ok() ? *q : Query();
}

std::string error(std::string_view text) {
  auto q = Query::parse(text);
  EXPECT_FALSE(q.ok()) << text;
  if (q.ok()) return "";
  EXPECT_EQ(q.error().kind(), ErrorKind::InvalidArgument);
  return q.error().message();
}

TEST(QueryParse, ConditionsClausesAndValues) {
  Query q = parsed(R"(age >= 30 and tags contains "math" order by age desc skip 5 limit 10)");
  ASSERT_EQ(q.conditions().size(), 2u);
  EXPECT_EQ(q.conditions()[0].field, "age");
  EXPECT_EQ(q.conditions()[0].op, Op::Ge);
  EXPECT_EQ(q.conditions()[0].value, 30);
  EXPECT_EQ(q.conditions()[1].op, Op::Contains);
  EXPECT_EQ(q.conditions()[1].value, "math");
  ASSERT_EQ(q.sort_keys().size(), 1u);
  EXPECT_EQ(q.sort_keys()[0].field, "age");
  EXPECT_EQ(q.sort_keys()[0].order, Descending);
  EXPECT_EQ(q.skip_count(), 5u);
  EXPECT_TRUE(q.has_take());
  EXPECT_EQ(q.take_count(), 10u);

  q = parsed(R"(a.b = [1, {"x": "]"}] and /c~1d != null and e not exists and f exists)");
  ASSERT_EQ(q.conditions().size(), 4u);
  EXPECT_EQ(q.conditions()[0].field, "a.b");
  EXPECT_EQ(q.conditions()[0].value, json::parse(R"([1, {"x": "]"}])"));
  EXPECT_EQ(q.conditions()[1].field, "/c~1d");
  EXPECT_TRUE(q.conditions()[1].value.is_null());
  EXPECT_EQ(q.conditions()[2].op, Op::NotExists);
  EXPECT_EQ(q.conditions()[3].op, Op::Exists);

  q = parsed("x == -1.5e3 and y < true and z prefix \"a\\\"b\" and w <= \"\"");
  EXPECT_EQ(q.conditions()[0].value, -1500.0);
  EXPECT_EQ(q.conditions()[1].value, true);
  EXPECT_EQ(q.conditions()[2].value, "a\"b");
  EXPECT_EQ(q.conditions()[3].op, Op::Le);
}

TEST(QueryParse, TimestampsAndShorthands) {
  Query q = parsed("name = \"Ada\" and timestamp between 1700 and 1800");
  EXPECT_EQ(q.from_ns(), 1700u);
  EXPECT_EQ(q.to_ns(), 1800u);
  q = parsed("newest 10");
  ASSERT_EQ(q.sort_keys().size(), 1u);
  EXPECT_TRUE(q.sort_keys()[0].by_timestamp);
  EXPECT_EQ(q.sort_keys()[0].order, Descending);
  EXPECT_EQ(q.take_count(), 10u);
  q = parsed("oldest 3");
  EXPECT_EQ(q.sort_keys()[0].order, Ascending);
  q = parsed("order by timestamp, a desc, b take 4");
  ASSERT_EQ(q.sort_keys().size(), 3u);
  EXPECT_TRUE(q.sort_keys()[0].by_timestamp);
  EXPECT_EQ(q.sort_keys()[1].order, Descending);
  EXPECT_EQ(q.sort_keys()[2].field, "b");
  EXPECT_EQ(q.take_count(), 4u);
  q = parsed("");
  EXPECT_TRUE(q.conditions().empty());
  EXPECT_FALSE(q.has_take());
}

TEST(QueryParse, TextFormRoundTrips) {
  for (const char* text :
       {R"(age >= 30 and tags contains "math" order by age desc, timestamp asc skip 5 limit 10)",
        R"(/and = 1 and /a.b exists and c not exists and timestamp between 1 and 2)",
        R"(x prefix "a" and y != [1,2] order by /limit asc)"}) {
    const Query q = parsed(text);
    EXPECT_EQ(q.to_string(), text);
    EXPECT_EQ(parsed(q.to_string()).to_string(), text);
  }
  Query built;
  built.where("order", Op::Eq, 1).where("a b", Op::Lt, "z").newest(2);
  EXPECT_EQ(built.to_string(), R"(/order = 1 and /a b < "z" order by timestamp desc limit 2)");
}

TEST(QueryParse, ErrorsNameTheColumnAndToken) {
  EXPECT_EQ(error("age >= "),
            "query: at column 8: expected a value after `>=`, found end of input");
  EXPECT_EQ(error("age >= and"), "query: at column 8: expected a value after `>=`, found `and`");
  EXPECT_EQ(error("age 30"),
            "query: at column 5: expected an operator (= != < <= > >= contains prefix exists, "
            "not exists) after `age`, found `30`");
  EXPECT_EQ(error("a = 1 b = 2"),
            "query: at column 7: expected `and` or a clause after `1`, found `b`");
  EXPECT_EQ(error("a = 1 or b = 2"),
            "query: at column 7: `or` is not supported: conditions are joined by `and` only");
  EXPECT_EQ(error("a = \"open"), "query: at column 5: unterminated string");
  EXPECT_EQ(error("a = [1, 2"), "query: at column 5: unbalanced `[`");
  EXPECT_EQ(error("a = 1.2.3"), "query: at column 5: malformed value `1.2.3`");
  EXPECT_EQ(error("a = 1 limit x"),
            "query: at column 13: expected a whole number after `limit`, found `x`");
  EXPECT_EQ(error("limit -1"),
            "query: at column 7: expected a whole number from 0 to 2^64-1, found `-1`");
  EXPECT_EQ(error("a = 1 order age"),
            "query: at column 13: expected `by` after `order`, found `age`");
  EXPECT_EQ(error("a ! 1"), "query: at column 3: `!` without `=`");
  EXPECT_EQ(error("a = 1 ; b"), "query: at column 7: unexpected character `;`");
  EXPECT_EQ(error("timestamp between 1 or 2"),
            "query: at column 21: expected `and` after `1`, found `or`");
  EXPECT_NE(error("limit = 3").find("expected a whole number after `limit`, found `=`"),
            std::string::npos);
  EXPECT_NE(error("desc = 3")
                .find("the keyword `desc` (write a field of that name as a JSON "
                      "pointer: /desc)"),
            std::string::npos);
  EXPECT_NE(error("a. = 3").find("malformed field `a.`"), std::string::npos);
  EXPECT_NE(error("skip 1 a = 2").find("expected a clause"), std::string::npos);
}

}  // namespace
}  // namespace wasm_sandbox::store
