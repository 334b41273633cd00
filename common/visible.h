#pragma once

#include <string>
#include <string_view>

// Text that someone else controls (an agent's role, message, file names, argv; anything the
// daemon stores for a session), made safe to show a person on a terminal. Every human-facing
// output of claude-bridgectl passes agent-controlled strings through visible(); JSON output
// does not (it is exact).
//
// What is escaped, so that a person always sees every character the model sees and nothing can
// drive the terminal or look different from what it is:
//   - C0 controls, DEL and C1 controls (U+0080..U+009F): ESC/OSC/CSI sequences, CR, NUL, BEL…
//   - Unicode format characters (general category Cf: bidi overrides and isolates, zero-width
//     space and joiners, soft hyphen, BOM, tag characters…), the line separator U+2028 (Zl)
//     and the paragraph separator U+2029 (Zp), per Unicode 15.1;
//   - bytes that are not well-formed UTF-8 (overlong forms, surrogates, beyond U+10FFFF, cut
//     sequences), one byte at a time.
// The notation is bash's $'…' and C's: \n \r \t, \xNN for C0 controls, DEL and stray bytes,
// \uNNNN and \UNNNNNNNN for code points. A backslash the text holds itself stays as it is
// (except in kShellQuoted), so an agent can make text look like an escape, never the reverse.
namespace cb {

enum class Visible {
  kLine,         // one line: newlines and tabs escaped too
  kLines,        // a body of text: newlines and tabs kept, everything else as kLine
  kShellQuoted,  // the inside of bash $'…': as kLine, plus \\ and \' (bash reads it back exactly)
};

std::string visible(std::string_view text, Visible mode = Visible::kLine);

// True when visible(text, kLine) would change nothing.
bool is_visible(std::string_view text);

// True for the code points visible() escapes (C0, DEL, C1, Cf, Zl, Zp).
bool is_hidden_code_point(char32_t c);

}  // namespace cb
