package document

import (
	"strings"
	"unicode/utf8"
)

// LenientFilter repairs a filter whose compare values are not quoted, as
// Microsoft's SCIM reference tests send them: `userName sw O`,
// `name.FamilyName eq Employee and (emails.Value co example.com or
// emails.Value co example.org)`,
// `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`. Each bare word in a
// compare value position that is not true, false, null or a JSON number
// becomes a quoted JSON string.
//
// It also lifts a sub-attribute written after a value filter into the filter,
// as Entra ID sends it when a user is matched on a work email:
// `emails[type eq "work"].value eq "x"` becomes
// `emails[type eq "work" and value eq "x"]` (the same condition: one element
// is a work email with that value). The RFC 7644 filter grammar has no such
// form (it exists only in PATCH paths).
//
// It returns the repaired filter and true only when s does not parse and the
// repaired filter does; otherwise it returns s unchanged and false, so a
// filter that already parses is never altered, and neither is one beyond the
// limits ParseFilter enforces (MaxFilterLength and the others). Use it after
// ParseFilter fails:
//
//	expr, err := document.ParseFilter(s)
//	if err != nil {
//		if fixed, ok := document.LenientFilter(s); ok {
//			expr, err = document.ParseFilter(fixed)
//		}
//	}
func LenientFilter(s string) (string, bool) {
	if limitProblem(s) != "" || filterParses(s) {
		return s, false
	}
	// One parse decides: when quoting changed something, the lifted filter
	// had a bare value and cannot parse; when it changed nothing, only the
	// lifted filter is left to try. (Each parse of a long filter costs
	// megabytes.)
	lifted, didLift := liftSubAttributes(s)
	fixed, quoted := quoteBareValues(lifted)
	switch {
	case quoted && filterParses(fixed):
		return fixed, true
	case !quoted && didLift && filterParses(lifted):
		return lifted, true
	}
	return s, false
}

// quoteBareValues quotes each bare word in a compare value position that is
// not true, false, null or a JSON number. It reports whether it changed
// anything; it gives up (false) on text it cannot follow.
func quoteBareValues(s string) (string, bool) {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	const (
		wantAttribute = iota
		wantOperator
		wantValue
		wantLogical
	)
	state := wantAttribute
	for start := 0; start < len(s); {
		if s[start] == ' ' {
			start++
			continue
		}
		end := tokenEnd(s, start)
		word := s[start:end]
		switch state {
		case wantAttribute:
			word = strings.TrimLeft(word, "(")
			if len(word) >= 3 && strings.EqualFold(word[:3], "not") && (len(word) == 3 || word[3] == '(') {
				word = strings.TrimLeft(word[3:], "(")
			}
			if word != "" {
				state = wantOperator
			}
		case wantOperator:
			op := strings.TrimRight(word, ")]")
			switch {
			case strings.EqualFold(op, "pr"):
				state = wantLogical
			case op == word && isCompareOperator(op):
				state = wantValue
			default:
				return s, false
			}
		case wantValue:
			if word[0] != '"' {
				bare := strings.TrimRight(word, ")]")
				if bare == "" {
					return s, false
				}
				if !strings.EqualFold(bare, "true") && !strings.EqualFold(bare, "false") && !strings.EqualFold(bare, "null") && !isJSONNumber(bare) {
					edits = append(edits, edit{start, start + len(bare), quoteJSONString(bare)})
				}
			}
			state = wantLogical
		case wantLogical:
			if !strings.EqualFold(word, "and") && !strings.EqualFold(word, "or") {
				return s, false
			}
			state = wantAttribute
		}
		start = end
	}
	if len(edits) == 0 {
		return s, false
	}
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(s[last:e.start])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// filterParses reports whether ParseFilter accepts s, without the cost of
// explaining why not: LenientFilter asks it about every candidate.
func filterParses(s string) bool {
	if limitProblem(s) != "" {
		return false
	}
	shape, _, err := scanLiterals(s)
	if err != nil {
		return false
	}
	_, err = parseFilterShape(shape)
	return err == nil
}

// liftSubAttributes rewrites every `attr[cond].sub op value` (and
// `attr[cond].sub pr`) into `attr[cond and sub op value]`. It only does so
// when cond is a single comparison: value filters take at most two terms and
// no grouping, so a compound cond cannot be extended without changing its
// meaning. Each lift adds a term, so it stops after MaxFilterTerms of them:
// a filter with more would be refused anyway, and each lift copies s.
func liftSubAttributes(s string) (string, bool) {
	changed := false
	for range MaxFilterTerms {
		open, closing := -1, -1
		inString := false
		for i := 0; i < len(s) && closing < 0; i++ {
			switch c := s[i]; {
			case inString && c == '\\':
				i++
			case c == '"':
				inString = !inString
			case inString:
			case c == '[':
				open = i
			case c == ']' && open >= 0 && i+1 < len(s) && s[i+1] == '.':
				closing = i
			}
		}
		if closing < 0 {
			return s, changed
		}
		cond := s[open+1 : closing]
		nameEnd := closing + 2
		for nameEnd < len(s) && isNameByte(s[nameEnd]) {
			nameEnd++
		}
		sub := s[closing+2 : nameEnd]
		opStart := nameEnd
		for opStart < len(s) && s[opStart] == ' ' {
			opStart++
		}
		if sub == "" || opStart == nameEnd || opStart >= len(s) || hasLogicalWord(cond) {
			return s, changed
		}
		opEnd := tokenEnd(s, opStart)
		op := s[opStart:opEnd]
		end := opEnd
		switch {
		case strings.EqualFold(op, "pr"):
		case isCompareOperator(op):
			valueStart := opEnd
			for valueStart < len(s) && s[valueStart] == ' ' {
				valueStart++
			}
			if valueStart >= len(s) {
				return s, changed
			}
			end = tokenEnd(s, valueStart)
			// A value token may carry closing parentheses of an enclosing group.
			for end > valueStart && s[end-1] == ')' && s[valueStart] != '"' {
				end--
			}
			if s[valueStart] == '"' {
				end = quotedEnd(s, valueStart)
			}
		default:
			return s, changed
		}
		term := s[closing+2 : end] // "sub op value"
		s = s[:closing] + " and " + term + "]" + s[end:]
		changed = true
	}
	return s, changed
}

// quotedEnd returns the index just past the JSON string starting at start.
func quotedEnd(s string, start int) int {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(s)
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// hasLogicalWord reports whether a value filter has an and/or outside quotes.
func hasLogicalWord(cond string) bool {
	inString := false
	for i := 0; i < len(cond); i++ {
		switch c := cond[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == ' ':
			rest := strings.ToLower(cond[i+1:])
			if strings.HasPrefix(rest, "and ") || strings.HasPrefix(rest, "or ") {
				return true
			}
		}
	}
	return false
}

// tokenEnd returns the end of the space-separated token at start; a token
// that opens with a quote runs at least to the closing quote.
func tokenEnd(s string, start int) int {
	i := start
	if s[i] == '"' {
		for i++; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		if i < len(s) {
			i++
		}
	}
	for i < len(s) && s[i] != ' ' {
		i++
	}
	return min(i, len(s))
}

func isCompareOperator(s string) bool {
	switch strings.ToLower(s) {
	case "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le":
		return true
	}
	return false
}

// quoteJSONString quotes s as a JSON string in the form filter-parser reads:
// its \u escapes take upper-case hex digits only.
func quoteJSONString(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte(hex[r>>4])
			b.WriteByte(hex[r&0xF])
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
