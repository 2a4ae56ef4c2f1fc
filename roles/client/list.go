package client

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
	"strconv"
)

// ListOptions shape a listing walked by an iterator.
type ListOptions struct {
	// Take is the page size, 1 to 100 (0: the server's default, 50). The
	// iterator fetches pages as the loop consumes them.
	Take int
	// Filters are the listing's own query parameters, e.g.
	// {"connection_id": …} for Users and Groups, {"name_filter": …} for
	// Roles, {"search": …}. The server refuses one the listing does not
	// declare (400 invalid_query_string), so a typo is never ignored.
	Filters map[string]string
}

// pages walks a checkpoint-paged listing: {"<key>":[…],"next":"…"}. Each
// page is fetched when the loop reaches it; an error ends the walk after
// being yielded once (with T's zero value).
func pages[T any](c *Client, ctx context.Context, path, key string, opts ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := url.Values{}
		for k, v := range opts.Filters {
			q.Set(k, v)
		}
		if opts.Take > 0 {
			q.Set("take", strconv.Itoa(opts.Take))
		}
		from := ""
		for {
			if from != "" {
				q.Set("from", from)
			} else if opts.Take == 0 {
				q.Set("take", "50") // checkpoint style, even where index paging is the default
			}
			var page map[string]json.RawMessage
			if _, err := c.call(ctx, "GET", path, q, nil, &page); err != nil {
				yield(zero, err)
				return
			}
			var items []T
			if raw, ok := page[key]; ok {
				if err := json.Unmarshal(raw, &items); err != nil {
					yield(zero, fmt.Errorf("rolecall: decoding %s of %s: %w", key, path, err))
					return
				}
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			from = ""
			if raw, ok := page["next"]; ok {
				_ = json.Unmarshal(raw, &from)
			}
			if from == "" {
				return
			}
		}
	}
}

// Collect gathers an iterator's items into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}
