#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

// Turns the one-line command an agent sends to execute_command into an argv. The result is
// handed to execve (inside the sandbox), NEVER to a shell, so everything a shell would do beyond
// quoting — chaining, pipes, redirections, expansions, globbing — is refused with a one-line
// explanation rather than silently passed on as literal text the model did not mean.
namespace cb::exec {

inline constexpr std::size_t kMaxCommandLength = 1000;  // bytes, as in the original tool schema

// The code of every refusal of the splitter and of the policy (policy.h): the command the model
// sent is not run.
inline constexpr const char* kCommandRefused = "command_refused";

// Splits `command` with POSIX-shell quoting:
//  - words are separated by unquoted spaces and tabs;
//  - '...' keeps everything literally up to the next ';
//  - "..." keeps everything literally except that \ escapes $ ` " and \ (before any other
//    character the backslash is kept); an unescaped $ or ` inside "..." is refused, because a
//    shell would expand it;
//  - outside quotes, \ makes the next character literal;
//  - adjacent quoted and unquoted parts join into one word ('a'"b"c is abc); '' is an empty
//    word.
// Refused (each with what to do instead): unquoted ; & | < > ( ) (chaining, background, pipes,
// redirections such as 2>&1, here-documents, subshells), ` and $ (substitution and
// expansion), the glob characters * ? [, a ~ at the start of a word or right after = (tilde
// expansion), # at the start of a word (a comment), a leading NAME=value word (environment
// assignment), ! as the first word, unterminated quotes, a trailing backslash, newlines, NUL and
// other control characters anywhere (tab excepted), commands longer than kMaxCommandLength,
// and empty commands. Inside quotes the operator and glob characters are plain text.
// The argv (at least one element), or a kCommandRefused Status whose message is one line for the
// model.
Result<std::vector<std::string>> split_command_line(std::string_view command);

// Renders argv back into a string that split_command_line() turns into the same argv (single
// quotes where needed). Meant for logs, audit rows and messages to the partner.
std::string join_command_line(const std::vector<std::string>& argv);

}  // namespace cb::exec
