#include "daemon/exec/command_line.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using cb::exec::join_command_line;
using cb::exec::kMaxCommandLength;
using cb::exec::split_command_line;
using Argv = std::vector<std::string>;

struct Accepted {
  std::string command;
  Argv argv;
};

struct Refused {
  std::string command;
  std::string must_mention;  // a fragment the one-line explanation must contain
};

}  // namespace

TEST_CASE("splitter: quoting rules produce the argv a POSIX shell would") {
  const std::vector<Accepted> rows = {
      {"ls -la", {"ls", "-la"}},
      {"  ls \t  -la   ", {"ls", "-la"}},
      {"git status", {"git", "status"}},
      {"echo 'hello world'", {"echo", "hello world"}},
      {"echo \"hello world\"", {"echo", "hello world"}},
      {"echo a\\ b", {"echo", "a b"}},
      {"echo 'it'\\''s'", {"echo", "it's"}},
      {"echo \"say \\\"hi\\\"\"", {"echo", "say \"hi\""}},
      {"echo \"a\\\\b\"", {"echo", "a\\b"}},
      {"echo \"a\\nb\"", {"echo", "a\\nb"}},  // \n is not an escape inside "..."
      {"echo 'a\\nb'", {"echo", "a\\nb"}},
      {"echo \"\\$HOME\"", {"echo", "$HOME"}},
      {"echo \\$HOME", {"echo", "$HOME"}},
      {"echo '$HOME'", {"echo", "$HOME"}},
      {"echo ''", {"echo", ""}},
      {"echo \"\" x", {"echo", "", "x"}},
      {"echo 'a'\"b\"c", {"echo", "abc"}},
      {"printf '%s\\n' x", {"printf", "%s\\n", "x"}},
      {"git log HEAD~1", {"git", "log", "HEAD~1"}},
      {"git show stash@{0}", {"git", "show", "stash@{0}"}},
      {"echo a=b", {"echo", "a=b"}},
      {"echo a#b", {"echo", "a#b"}},
      {"echo '#'", {"echo", "#"}},
      {"'FOO=bar' x", {"FOO=bar", "x"}},
      {"echo '!'", {"echo", "!"}},
      {"find . ! -name x", {"find", ".", "!", "-name", "x"}},
      {"echo \\~", {"echo", "~"}},
      {"echo '~' \"~\"", {"echo", "~", "~"}},
      {"echo ]", {"echo", "]"}},
      {"echo \\*", {"echo", "*"}},
      {"echo \\|", {"echo", "|"}},
      {"echo caf\xc3\xa9", {"echo", "caf\xc3\xa9"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.command);
    const auto r = split_command_line(row.command);
    CHECK(r.ok());
    CHECK(*r == row.argv);
  }
}

TEST_CASE("splitter: shell operators inside quotes are literal text") {
  const std::vector<Accepted> rows = {
      {"grep 'a|b' file", {"grep", "a|b", "file"}},
      {"grep \"a|b\" file", {"grep", "a|b", "file"}},
      {"echo 'a && b'", {"echo", "a && b"}},
      {"echo \"a || b\"", {"echo", "a || b"}},
      {"echo 'x; y'", {"echo", "x; y"}},
      {"echo 'sleep 1 &'", {"echo", "sleep 1 &"}},
      {"echo 'a > b' \"c >> d\"", {"echo", "a > b", "c >> d"}},
      {"echo '2>&1'", {"echo", "2>&1"}},
      {"echo 'a < b' '<<EOF'", {"echo", "a < b", "<<EOF"}},
      {"echo '$(id)' '`id`' '${HOME}'", {"echo", "$(id)", "`id`", "${HOME}"}},
      {"find . -name '*.cpp'", {"find", ".", "-name", "*.cpp"}},
      {"echo \"a?b\" '[x]'", {"echo", "a?b", "[x]"}},
      {"echo '(x)' \"(y)\"", {"echo", "(x)", "(y)"}},
      {"echo 'a\tb'", {"echo", "a\tb"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.command);
    const auto r = split_command_line(row.command);
    CHECK(r.ok());
    CHECK(*r == row.argv);
  }
}

TEST_CASE("splitter: everything that needs a shell is refused with a one-line reason") {
  const std::vector<Refused> rows = {
      {"ls && rm -rf ~", "'&&'"},
      {"ls; rm x", "';'"},
      {"ls ;rm x", "';'"},
      {"false || rm x", "'||'"},
      {"ls | grep x", "'|'"},
      {"ls|grep x", "'|'"},
      {"sleep 1 &", "'&'"},
      {"echo x > f", "'>'"},
      {"echo x>f", "'>'"},
      {"echo x >> f", "'>>'"},
      {"ls 2> err", "'2>'"},
      {"ls 2>&1", "'2>&'"},
      {"ls &>/dev/null", "'&>'"},
      {"cat < f", "'<'"},
      {"cat <<EOF", "'<<'"},
      {"cat <<< x", "'<<<'"},
      {"diff <(ls) x", "'<('"},
      {"(ls)", "subshell"},
      {"echo $(id)", "'$('"},
      {"echo \"$(id)\"", "'$('"},
      {"echo `id`", "'`'"},
      {"echo \"`id`\"", "'`'"},
      {"echo $HOME", "'$'"},
      {"echo ${HOME}", "'$'"},
      {"echo \"$HOME\"", "\\$"},
      {"echo a$", "'$'"},
      {"ls *.cpp", "'*'"},
      {"ls file?.txt", "'?'"},
      {"ls [ab].txt", "'['"},
      {"cd ~", "'~'"},
      {"ls ~/x", "'~'"},
      {"ls ~root", "'~'"},
      {"make --prefix=~/x", "'~'"},
      {std::string("ls\nrm -rf x"), "line break"},
      {std::string("ls\r\nx"), "line break"},
      {std::string("ls\0x", 4), "NUL"},
      {std::string("echo \x1b[31m"), "control character 0x1b"},
      {"", "empty"},
      {"   \t ", "empty"},
      {"echo 'unterminated", "unterminated single quote"},
      {"echo \"unterminated", "unterminated double quote"},
      {"echo x\\", "backslash"},
      {"# just a comment", "comment"},
      {"ls # trailing comment", "comment"},
      {"FOO=bar ls", "environment"},
      {"! ls", "'!'"},
      {std::string(kMaxCommandLength + 1, 'a'), "limit is 1000"},
  };
  for (const auto& row : rows) {
    CAPTURE(row.command);
    const auto r = split_command_line(row.command);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == "command_refused");
    CHECK(r.status().message().rfind("refused", 0) == 0);
    CHECK(r.status().message().find('\n') == std::string::npos);
    CHECK_MESSAGE(r.status().message().find(row.must_mention) != std::string::npos,
                  r.status().message());
  }
}

TEST_CASE("splitter: exactly the length limit is accepted") {
  std::string command = "echo " + std::string(kMaxCommandLength - 5, 'x');
  REQUIRE(command.size() == kMaxCommandLength);
  CHECK(split_command_line(command).ok());
}

TEST_CASE("splitter: refusals point at the offending character") {
  const auto r = split_command_line("ls -la && rm x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("(at character 8)") != std::string::npos);
}

TEST_CASE("join_command_line round-trips through the splitter") {
  const std::vector<Argv> rows = {
      {"ls", "-la"},
      {"echo", "hello world"},
      {"echo", "it's", "\"q\""},
      {"echo", ""},
      {"grep", "a|b", "*.cpp", "$HOME", "`x`", "~", "#", "!", "a;b"},
      {"FOO=bar", "x=y"},
      {"printf", "%s\\n", "tab\there"},
  };
  for (const auto& argv : rows) {
    const std::string joined = join_command_line(argv);
    CAPTURE(joined);
    const auto r = split_command_line(joined);
    CHECK(r.ok());
    CHECK(*r == argv);
  }
  CHECK(join_command_line({"git", "status"}) == "git status");
}
