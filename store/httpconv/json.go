package httpconv

import "unicode/utf8"

// AppendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped (the latter always as \u00XX), invalid UTF-8
// replaced by U+FFFD. The role index encodes the login query's answers with
// it, without reflection, and the store its audit runs and member lists.
//
// It decodes to the same string as encoding/json's encoding but is not
// byte-identical to it: encoding/json also escapes <, > and & (HTML safety)
// and U+2028 and U+2029, and writes \n, \r, \t, \b and \f in short form. The
// answers are JSON for programs, never inlined into HTML, so none of that is
// needed.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
