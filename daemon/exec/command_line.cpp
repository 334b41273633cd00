#include "daemon/exec/command_line.h"

#include <string>

namespace cb::exec {
namespace {

// Every refusal names the position (1-based, in bytes) so the model can find the culprit.
std::string at(std::size_t pos) { return " (at character " + std::to_string(pos + 1) + ")"; }

Status refuse(std::string message) { return Status::error(kCommandRefused, std::move(message)); }

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// The explanation for an unquoted shell operator starting at command[pos]; `word` is the
// unquoted text of the current word so far (to recognise 2> and friends).
std::string operator_refusal(std::string_view command, std::size_t pos, const std::string& word) {
  const char c = command[pos];
  const auto next = [&](std::size_t k) { return pos + k < command.size() ? command[pos + k] : 0; };
  const std::string where = at(pos);
  const char* kNoShell = " is a shell operator, but commands are not run by a shell; ";
  switch (c) {
    case ';':
      return "refused: ';' (command list)" + std::string(kNoShell) +
             "send each command in its own execute_command call" + where;
    case '&':
      if (next(1) == '&') {
        return "refused: '&&' (run if the previous succeeded)" + std::string(kNoShell) +
               "send each command in its own execute_command call and check its exit code" + where;
      }
      if (next(1) == '>') {
        return "refused: '&>' (redirection)" + std::string(kNoShell) +
               "stdout and stderr are both returned to you, drop the redirection" + where;
      }
      return "refused: '&' (background job)" + std::string(kNoShell) +
             "commands run to completion within the timeout; run it in the foreground" + where;
    case '|':
      if (next(1) == '|') {
        return "refused: '||' (run if the previous failed)" + std::string(kNoShell) +
               "send each command in its own execute_command call and check its exit code" + where;
      }
      return "refused: '|' (pipe)" + std::string(kNoShell) +
             "run the first command alone and filter its output yourself, or use the program's "
             "own options (e.g. grep PATTERN FILE instead of cat FILE | grep PATTERN); to match "
             "a literal |, quote it: 'a|b'" +
             where;
    case '<':
      if (next(1) == '<') {
        return "refused: '" + std::string(next(2) == '<' ? "<<<" : "<<") + "' (here-document)" +
               kNoShell +
               "pass the text as a quoted argument, or write it to a file first and name the file" +
               where;
      }
      if (next(1) == '(') {
        return "refused: '<(' (process substitution)" + std::string(kNoShell) +
               "run the inner command first and write its output to a file" + where;
      }
      return "refused: '<' (input redirection)" + std::string(kNoShell) +
             "pass the file name as an argument instead (stdin is /dev/null)" + where;
    case '>': {
      std::string op = ">";
      if (next(1) == '>') op = ">>";
      if (next(1) == '&') op = ">&";
      if (next(1) == '(') op = ">(";
      bool fd_prefix = !word.empty();
      for (char d : word) fd_prefix = fd_prefix && d >= '0' && d <= '9';
      if (fd_prefix) op = word + op;
      return "refused: '" + op + "' (output redirection)" + kNoShell +
             "stdout and stderr are returned to you separately; to write a file, use your own "
             "file tools, or the program's own output option" +
             where;
    }
    case '(':
    case ')':
      return std::string("refused: '") + c + "' (subshell or grouping)" + kNoShell +
             "run the commands one per call; to pass a literal parenthesis, quote it" + where;
    default:
      return std::string("refused: '") + c + "'" + kNoShell + "quote it to pass it literally" +
             where;
  }
}

std::string dollar_refusal(std::string_view command, std::size_t pos, bool in_double_quotes) {
  const char next = pos + 1 < command.size() ? command[pos + 1] : 0;
  const std::string tail =
      in_double_quotes ? "; for a literal $ write \\$ or use single quotes" : "";
  if (next == '(') {
    return "refused: '$(' (command substitution): commands are not run by a shell; run the "
           "inner command in its own call and paste its result" +
           tail + at(pos);
  }
  return "refused: '$' (variable expansion): commands are not run by a shell and the sandbox "
         "has a clean environment; write the value literally, or put it in single quotes to "
         "pass a literal $" +
         tail + at(pos);
}

std::string backtick_refusal(std::size_t pos) {
  return "refused: '`' (command substitution): commands are not run by a shell; run the inner "
         "command in its own call and paste its result, or put a literal ` in single quotes" +
         at(pos);
}

std::string control_refusal(unsigned char c, std::size_t pos) {
  if (c == '\n' || c == '\r') {
    return "refused: the command contains a line break; send exactly one command per call, on "
           "one line" +
           at(pos);
  }
  if (c == 0) return "refused: the command contains a NUL byte" + at(pos);
  return "refused: the command contains the control character 0x" +
         std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15] +
         "; only printable text and tabs are accepted" + at(pos);
}

bool is_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

}  // namespace

Result<std::vector<std::string>> split_command_line(std::string_view command) {
  if (command.size() > kMaxCommandLength) {
    return refuse("refused: the command is " + std::to_string(command.size()) +
                  " bytes long; the limit is " + std::to_string(kMaxCommandLength) +
                  " (write long inputs to a file and pass its name)");
  }
  for (std::size_t i = 0; i < command.size(); ++i) {
    const auto c = static_cast<unsigned char>(command[i]);
    if (is_control(c)) return refuse(control_refusal(c, i));
  }

  std::vector<std::string> argv;
  std::string word;
  bool in_word = false;            // a word has started (possibly empty, e.g. '')
  bool word_quoted = false;        // some part of the current word was quoted or escaped
  bool after_tilde_anchor = true;  // position where an unquoted ~ would be expanded
  std::size_t word_start = 0;

  const auto finish_word = [&]() -> std::string {
    if (!in_word) return {};
    // NAME=value as the first word is an environment assignment to a shell.
    if (argv.empty() && !word.empty() && is_name_start(word[0])) {
      std::size_t k = 0;
      while (k < word.size() && is_name_char(word[k])) ++k;
      if (k < word.size() && word[k] == '=' && !word_quoted) {
        return "refused: '" + word.substr(0, k + 1) +
               "...' sets an environment variable, which needs a shell; the sandbox has a "
               "fixed clean environment, pass settings as program options instead" +
               at(word_start);
      }
    }
    if (argv.empty() && word == "!" && !word_quoted) {
      return "refused: a leading '!' negates a pipeline, which needs a shell; run the command "
             "and check its exit code" +
             at(word_start);
    }
    argv.push_back(std::move(word));
    word.clear();
    in_word = false;
    word_quoted = false;
    return {};
  };

  std::size_t i = 0;
  while (i < command.size()) {
    const char c = command[i];
    if (c == ' ' || c == '\t') {
      if (auto e = finish_word(); !e.empty()) return refuse(std::move(e));
      after_tilde_anchor = true;
      ++i;
      continue;
    }
    if (!in_word) {
      in_word = true;
      word_start = i;
      if (c == '#') {
        return refuse(
            "refused: '#' starts a shell comment, but commands are not run by a shell; drop the "
            "comment, or quote it to pass a literal #" +
            at(i));
      }
    }
    switch (c) {
      case '\'': {
        const std::size_t close = command.find('\'', i + 1);
        if (close == std::string_view::npos) {
          return refuse("refused: unterminated single quote; close it with '" + at(i));
        }
        word.append(command.substr(i + 1, close - i - 1));
        word_quoted = true;
        after_tilde_anchor = false;
        i = close + 1;
        continue;
      }
      case '"': {
        std::size_t j = i + 1;
        for (;;) {
          if (j >= command.size()) {
            return refuse("refused: unterminated double quote; close it with \"" + at(i));
          }
          const char d = command[j];
          if (d == '"') break;
          if (d == '\\' && j + 1 < command.size()) {
            const char e = command[j + 1];
            if (e == '$' || e == '`' || e == '"' || e == '\\') {
              word.push_back(e);
              j += 2;
              continue;
            }
            word.push_back('\\');
            ++j;
            continue;
          }
          if (d == '$') return refuse(dollar_refusal(command, j, true));
          if (d == '`') return refuse(backtick_refusal(j));
          word.push_back(d);
          ++j;
        }
        word_quoted = true;
        after_tilde_anchor = false;
        i = j + 1;
        continue;
      }
      case '\\':
        if (i + 1 >= command.size()) {
          return refuse(
              "refused: the command ends with a backslash, which would continue it on another "
              "line; remove it" +
              at(i));
        }
        word.push_back(command[i + 1]);
        word_quoted = true;
        after_tilde_anchor = false;
        i += 2;
        continue;
      case ';':
      case '&':
      case '|':
      case '<':
      case '>':
      case '(':
      case ')':
        return refuse(operator_refusal(command, i, word_quoted ? std::string("x") : word));
      case '$':
        return refuse(dollar_refusal(command, i, false));
      case '`':
        return refuse(backtick_refusal(i));
      case '*':
      case '?':
      case '[':
        return refuse(std::string("refused: unquoted '") + c +
                      "' is a glob pattern, but commands are not run by a shell and nothing "
                      "expands it; name the files explicitly, or quote the pattern when the "
                      "program itself interprets it (e.g. find . -name '*.cpp')" +
                      at(i));
      case '~':
        if (after_tilde_anchor) {
          return refuse(
              "refused: '~' (home directory expansion) needs a shell, and HOME in the sandbox "
              "is the workspace; use a path relative to the workspace, or quote it to pass a "
              "literal ~" +
              at(i));
        }
        break;
      default:
        break;
    }
    word.push_back(c);
    // Shells expand ~ right after = in assignment-like words (and some in --opt=~/x); a model
    // writing that expects its home, so it is refused there too.
    after_tilde_anchor = (c == '=');
    ++i;
  }
  if (auto e = finish_word(); !e.empty()) return refuse(std::move(e));
  if (argv.empty()) {
    return refuse("refused: the command is empty; send a program name and its arguments");
  }
  return argv;
}

std::string join_command_line(const std::vector<std::string>& argv) {
  std::string out;
  for (std::size_t n = 0; n < argv.size(); ++n) {
    const std::string& a = argv[n];
    bool plain = !a.empty();
    for (char c : a) {
      const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '/' ||
                        c == ',' || c == '+' || c == '@' || c == '%' || c == ':' ||
                        (c == '=' && n > 0);
      plain = plain && safe;
    }
    if (n > 0) out.push_back(' ');
    if (plain) {
      out += a;
      continue;
    }
    out.push_back('\'');
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out.push_back(c);
      }
    }
    out.push_back('\'');
  }
  return out;
}

}  // namespace cb::exec
