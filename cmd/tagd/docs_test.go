package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// docsSUNProfiles is the operator guide whose examples TestDocsExamples runs.
const docsSUNProfiles = "../../docs/SUN-PROFILES.md"

// minDocExamples guards against a change of format that would make the
// parser silently find nothing to run.
const minDocExamples = 20

// docExample is one "$ tagd …" line of a ```sh block and the output lines
// below it.
type docExample struct {
	line int    // line number of the "$" line in the file
	cmd  string // the command, without the "$ " prompt
	want string // the expected stdout
}

// parseDocExamples returns the examples of every ```sh block that holds
// "$ PROGRAM " lines (program is "tagd" for the guides, "curl" for the API
// reference). In such a block each "$ " line is one command, and the lines
// up to the next "$ " line or the end of the block are its output. Blocks
// without a "$ " line are not examples and are skipped.
func parseDocExamples(text, program string) ([]docExample, error) {
	prompt := "$ " + program + " "
	var out []docExample
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```sh" {
			continue
		}
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("line %d: ```sh block is not closed", i+1)
		}
		block := lines[start:end]
		i = end
		hasPrompt := false
		for _, l := range block {
			if strings.HasPrefix(l, "$ ") {
				hasPrompt = true
			}
		}
		if !hasPrompt {
			continue
		}
		var cur *docExample
		var want []string
		flush := func() {
			if cur != nil {
				cur.want = strings.Join(want, "\n")
				out = append(out, *cur)
			}
		}
		for j, l := range block {
			n := start + j + 1
			switch {
			case strings.HasPrefix(l, "$ "):
				if !strings.HasPrefix(l, prompt) {
					return nil, fmt.Errorf("line %d: a command in a ```sh example block must start with %q: %q", n, prompt, l)
				}
				flush()
				cur, want = &docExample{line: n, cmd: strings.TrimPrefix(l, "$ ")}, nil
			case cur == nil:
				if strings.TrimSpace(l) != "" {
					return nil, fmt.Errorf("line %d: text before the first %q line of an example block: %q", n, prompt, l)
				}
			default:
				want = append(want, l)
			}
		}
		flush()
	}
	return out, nil
}

// splitShell splits a command line into words as a POSIX shell does for
// the subset the documentation uses: blanks separate words, '…' quotes
// literally, "…" quotes with \" \\ \$ \` as escapes, and a backslash
// outside quotes escapes the next character. It refuses what a shell would
// expand or treat as an operator (unquoted & | ; < > ( ) $ ` * ? [, and
// # or ~ at the start of a word, and $ or ` inside double quotes), so that
// every documented command also works when pasted into a shell.
func splitShell(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at column %d", i+1)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '\\':
					if i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
						i++
					}
				case '$', '`':
					return nil, fmt.Errorf("%q inside double quotes at column %d would be expanded by a shell", s[i], i+1)
				}
				w.WriteByte(s[i])
			}
			if i == len(s) {
				return nil, fmt.Errorf("unterminated \"")
			}
			inWord = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			w.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("&|;<>()$`*?[", c) >= 0, !inWord && (c == '#' || c == '~'):
			return nil, fmt.Errorf("unquoted %q at column %d: a shell would not pass it on as is; quote the word", c, i+1)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// TestShellSplit checks the splitter on the quoting the documentation uses.
func TestShellSplit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "tagd verify --mode aes", want: []string{"tagd", "verify", "--mode", "aes"}},
		{in: "  tagd\t verify  ", want: []string{"tagd", "verify"}},
		{in: "tagd verify 'https://x/?a=1&b=2'", want: []string{"tagd", "verify", "https://x/?a=1&b=2"}},
		{in: `tagd verify "a b" 'c d'e`, want: []string{"tagd", "verify", "a b", "c de"}},
		{in: `tagd --mac-input 'X&cmac=' --x ''`, want: []string{"tagd", "--mac-input", "X&cmac=", "--x", ""}},
		{in: `tagd "say \"hi\" \\ \n"`, want: []string{"tagd", `say "hi" \ \n`}},
		{in: `tagd a\ b`, want: []string{"tagd", "a b"}},
		{in: `tagd --mac-input=from:any.domain`, want: []string{"tagd", "--mac-input=from:any.domain"}},
		{in: "tagd verify https://x/?a=1&b=2", bad: true},
		{in: "tagd verify 'open", bad: true},
		{in: `tagd verify "open`, bad: true},
		{in: `tagd verify "$HOME"`, bad: true},
		{in: "tagd verify $HOME", bad: true},
		{in: "tagd verify # comment", bad: true},
		{in: "tagd verify a;b", bad: true},
		{in: `tagd verify a\`, bad: true},
	} {
		got, err := splitShell(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: split into %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
			t.Errorf("%s: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestDocsExamples runs every example of docs/SUN-PROFILES.md with the
// built binary and checks that its stdout is the documented output. The
// exit code is not checked: failed verifications are documented too.
func TestDocsExamples(t *testing.T) {
	b, err := os.ReadFile(docsSUNProfiles)
	if err != nil {
		t.Fatal(err)
	}
	examples, err := parseDocExamples(string(b), "tagd")
	if err != nil {
		t.Fatalf("%s: %v", docsSUNProfiles, err)
	}
	if len(examples) < minDocExamples {
		t.Fatalf("%s: found %d examples, want at least %d; is the ```sh / \"$ tagd\" format intact?", docsSUNProfiles, len(examples), minDocExamples)
	}
	for _, ex := range examples {
		t.Run(fmt.Sprintf("line%d", ex.line), func(t *testing.T) {
			args, err := splitShell(ex.cmd)
			if err != nil {
				t.Fatalf("%s:%d: %v\n%s", docsSUNProfiles, ex.line, err, ex.cmd)
			}
			if len(args) < 2 || args[0] != "tagd" {
				t.Fatalf("%s:%d: not a tagd command: %s", docsSUNProfiles, ex.line, ex.cmd)
			}
			stdout, stderr, code := runBin(t, args[1:]...)
			got, want := strings.TrimSpace(stdout), strings.TrimSpace(ex.want)
			if got != want {
				t.Errorf("%s:%d: $ %s\n(exit %d, stderr %q)\ngot:\n%s\nwant:\n%s", docsSUNProfiles, ex.line, ex.cmd, code, stderr, got, want)
			}
		})
	}
}
