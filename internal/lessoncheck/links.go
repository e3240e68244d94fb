package lessoncheck

import (
	"regexp"
	"strings"
	"unicode"
)

// Anchors returns the anchors GitHub gives a Markdown file's headings
// ("## diffID, chainID" is #diffid-chainid), without the "#". Headings inside
// code fences are not headings.
func Anchors(markdown string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
			continue
		}
		if inFence || !strings.HasPrefix(line, "#") {
			continue
		}
		text := strings.TrimSpace(strings.TrimLeft(line, "#"))
		slug := Slug(text)
		if k := seen[slug]; k > 0 {
			anchors[slug+"-"+itoa(k)] = true
		} else {
			anchors[slug] = true
		}
		seen[slug]++
	}
	return anchors
}

func itoa(n int) string {
	var b []byte
	for n > 0 || len(b) == 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

// Slug is GitHub's heading anchor (github-slugger): lower case, each space a
// -, and every character that is not a letter, a combining mark, a number, a
// connector such as _, a - or a space dropped, so markup and punctuation go and
// Korean (or any) letters stay: "1단계 — 프로세스" is #1단계--프로세스.
func Slug(heading string) string {
	heading = strings.NewReplacer("`", "", "*", "").Replace(heading)
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// A Link is a Markdown link's target, split at its #, and its line.
type Link struct {
	Line     int
	Path     string
	Fragment string
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// Links returns the inline links of a Markdown document, outside code fences
// and code spans (which may run over several lines of a paragraph).
func Links(markdown string) []Link {
	var links []Link
	inFence, inCode := false, false
	for i, line := range strings.Split(markdown, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence, inCode = !inFence, false
			continue
		}
		if inFence {
			continue
		}
		if strings.TrimSpace(line) == "" { // a paragraph ends, and any open span with it
			inCode = false
			continue
		}
		var text string
		text, inCode = withoutCodeSpans(line, inCode)
		for _, m := range linkRE.FindAllStringSubmatch(text, -1) {
			path, frag, _ := strings.Cut(m[1], "#")
			links = append(links, Link{Line: i + 1, Path: path, Fragment: frag})
		}
	}
	return links
}

// withoutCodeSpans blanks what is inside `code` so that a link shown as code
// is not a link; inCode says whether the line starts inside a span, and the
// result whether it ends inside one.
func withoutCodeSpans(line string, inCode bool) (string, bool) {
	b := []byte(line)
	for i := range b {
		if b[i] == '`' {
			inCode = !inCode
			continue
		}
		if inCode {
			b[i] = ' '
		}
	}
	return string(b), inCode
}
