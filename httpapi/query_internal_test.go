package httpapi

import (
	"strings"
	"testing"
)

func TestParseQuery(t *testing.T) {
	for _, tt := range []struct {
		raw string
		// want lists name=value for every parameter found, in x a c u r
		// order; dup the repeated name.
		want []string
		dup  string
	}{
		{"", nil, ""},
		{"x=q8w3sbcz", []string{"x=q8w3sbcz"}, ""},
		{"r=t&u=04AA&c=cu&a=demo&x=q", []string{"x=q", "a=demo", "c=cu", "u=04AA", "r=t"}, ""},
		{"x=%41b+c&picc_data=AB&cmac=CD", []string{"x=%41b+c"}, ""},
		{"x", []string{"x="}, ""},
		{"x=&a=", []string{"x=", "a="}, ""},
		{"x=a=b", []string{"x=a=b"}, ""},
		{"&&x=1&&", []string{"x=1"}, ""},
		{"X=1&%78=2&x2=3&xx=4& x=5", nil, ""},
		{"x=1;a=2", []string{"x=1;a=2"}, ""},
		{"x=1#&a=2", []string{"x=1"}, ""},
		{"x=1&x=2", []string{"x=1"}, "x"},
		{"a=1&c=2&a=1", []string{"a=1", "c=2"}, "a"},
		{"x&x=", []string{"x="}, "x"},
		{"r=1&r=2", []string{"r=1"}, "r"},
		{"cmac=1&cmac=2&x=3", []string{"x=3"}, ""},
	} {
		q, dup := parseQuery(tt.raw)
		var got []string
		for i, name := range []string{"x", "a", "c", "u", "r"} {
			if q.set[i] {
				got = append(got, name+"="+q.val[i])
			}
		}
		if strings.Join(got, "&") != strings.Join(tt.want, "&") || dup != tt.dup {
			t.Errorf("parseQuery(%q) = %q, dup %q; want %q, dup %q", tt.raw, got, dup, tt.want, tt.dup)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"q8w3sbcz":  "q8w3sbcz",
		"my%20cuid": "my cuid",
		"a+b":       "a b",
		"%2B%2f":    "+/",
		"%zz":       "%zz",
		"100%":      "100%",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzQuery checks that parseQuery never panics and that every value it
// returns is the exact raw text of its part: the name, '=', the value, then
// '&' or the end, with the query cut at '#'.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		"", "x=q8w3sbcz", "a=demo&c=yourcuid&r=tok", "a=demo&u=04AABBCC112233",
		"x=a&picc_data=AB&cmac=CD", "x=%41&x=%42", "x", "&&=&x==&", "x=1#a=2&c=3", "r=&u&c=%zz;a=1",
	} {
		f.Add(s)
	}
	names := []string{"x", "a", "c", "u", "r"}
	f.Fuzz(func(t *testing.T, raw string) {
		q, dup := parseQuery(raw)
		body, _, _ := strings.Cut(raw, "#")
		// The reference: split on '&', count each name.
		count := map[string]int{}
		first := map[string]string{}
		firstDup := ""
		for _, part := range strings.Split(body, "&") {
			name, val, _ := strings.Cut(part, "=")
			count[name]++
			if count[name] == 1 {
				first[name] = val
			} else if firstDup == "" && paramIndex(name) >= 0 {
				firstDup = name
			}
		}
		if dup != firstDup {
			t.Fatalf("dup %q, want %q", dup, firstDup)
		}
		for i, name := range names {
			if !q.set[i] {
				if dup == "" && count[name] > 0 {
					t.Fatalf("%s present but not found", name)
				}
				if q.val[i] != "" {
					t.Fatalf("%s unset with value %q", name, q.val[i])
				}
				continue
			}
			v := q.val[i]
			if v != first[name] {
				t.Fatalf("%s = %q, want %q", name, v, first[name])
			}
			if strings.ContainsAny(v, "&#") {
				t.Fatalf("%s = %q holds a separator", name, v)
			}
			framed := "&" + body + "&"
			if !strings.Contains(framed, "&"+name+"="+v+"&") && !(v == "" && strings.Contains(framed, "&"+name+"&")) {
				t.Fatalf("%s = %q is not a raw part of %q", name, v, raw)
			}
		}
	})
}
