package document

// Clone returns a deep copy of a document (or any decoded JSON object):
// maps and lists are copied, scalars shared. Apply changes its document in
// place, so a caller that must keep the original on error applies to a
// Clone.
func Clone(doc map[string]any) map[string]any {
	if doc == nil {
		return nil
	}
	return cloneMap(doc, true)
}

func cloneMap(m map[string]any, deep bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if deep {
			v = cloneValue(v)
		}
		out[k] = v
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneMap(v, true)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	default:
		return v
	}
}
