package lessoncheck

import (
	"fmt"
	"regexp"
	"strings"
)

// Block is one ```mermaid block of a Markdown file: its text and the line of
// the file its first diagram line is on.
type Block struct {
	Line int
	Text string
}

// MermaidBlocks returns the ```mermaid blocks of a Markdown document.
func MermaidBlocks(markdown string) []Block {
	var (
		blocks []Block
		cur    *Block
		body   []string
	)
	for i, line := range strings.Split(markdown, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```mermaid":
			cur = &Block{Line: i + 2}
			body = nil
		case cur != nil && trimmed == "```":
			cur.Text = strings.Join(body, "\n")
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body = append(body, line)
		}
	}
	if cur != nil { // an unclosed fence: check what there is, it will not render
		cur.Text = strings.Join(body, "\n") + "\n```unclosed"
		blocks = append(blocks, *cur)
	}
	return blocks
}

// A LineError is a diagram error at a line of the diagram (1 = its header).
type LineError struct {
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

func errorf(line int, format string, args ...any) error {
	return &LineError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// line is one meaningful line of a diagram: comments and blank lines gone.
type line struct {
	n    int
	text string
}

// CheckMermaid parses one diagram and returns its first error.
func CheckMermaid(diagram string) error {
	var lines []line
	for i, l := range strings.Split(diagram, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "%%") {
			continue
		}
		if strings.HasPrefix(t, "```") {
			return errorf(i+1, "the ``` fence is not closed")
		}
		lines = append(lines, line{i + 1, t})
	}
	if len(lines) == 0 {
		return errorf(1, "empty diagram")
	}
	head := strings.Fields(lines[0].text)
	switch head[0] {
	case "flowchart", "graph":
		if len(head) > 2 || len(head) == 2 && !directions[head[1]] {
			return errorf(lines[0].n, "flowchart direction %q: want TB, TD, BT, RL or LR", strings.Join(head[1:], " "))
		}
		return checkFlowchart(lines[1:])
	case "sequenceDiagram":
		if len(head) > 1 {
			return errorf(lines[0].n, "sequenceDiagram takes nothing after it on its line")
		}
		return checkSequence(lines[1:])
	case "stateDiagram-v2", "stateDiagram":
		if len(head) > 1 {
			return errorf(lines[0].n, "%s takes nothing after it on its line", head[0])
		}
		return checkState(lines[1:])
	}
	return errorf(lines[0].n, "unknown diagram type %q (this check knows flowchart, graph, sequenceDiagram, stateDiagram-v2)", head[0])
}

var directions = map[string]bool{"TB": true, "TD": true, "BT": true, "RL": true, "LR": true}

// --- flowchart ---

var (
	flowID = regexp.MustCompile(`^[A-Za-z0-9_]+`)
	// Link operators, longest first: arrows with heads, open links, dotted
	// and thick ones, invisible ~~~, and a head on both ends.
	flowLink = regexp.MustCompile(`^(<|o|x)?(-{2,}|={2,}|-\.+-|~{3,})(>|o|x)?`)
	// The "-- label -->" form (and -. label .-> and == label ==>).
	flowTextLink = regexp.MustCompile(`^(--|-\.|==)\s+([^-=.>|][^>]*?)\s+(-{2,}>|\.-+>|={2,}>|-{3,}|={3,})`)
	// Statements that are not nodes and edges.
	flowOther = regexp.MustCompile(`^(classDef|class|style|linkStyle|click)\s`)
)

// Node shapes: the opening delimiter and its closing one, longest first.
var shapes = []struct{ open, close string }{
	{"(((", ")))"}, {"([", "])"}, {"[[", "]]"}, {"[(", ")]"}, {"((", "))"}, {"{{", "}}"},
	{"[/", "/]"}, {"[/", `\]`}, {`[\`, `\]`}, {`[\`, "/]"},
	{"[", "]"}, {"(", ")"}, {"{", "}"}, {">", "]"},
}

func checkFlowchart(lines []line) error {
	depth := 0
	for _, l := range lines {
		t := l.text
		fields := strings.Fields(t)
		switch {
		case fields[0] == "subgraph":
			if len(fields) < 2 {
				return errorf(l.n, "subgraph needs an ID")
			}
			if err := flowSubgraph(l.n, strings.TrimSpace(strings.TrimPrefix(t, "subgraph"))); err != nil {
				return err
			}
			depth++
		case t == "end":
			if depth == 0 {
				return errorf(l.n, "end without a subgraph")
			}
			depth--
		case fields[0] == "direction":
			if len(fields) != 2 || !directions[fields[1]] {
				return errorf(l.n, "direction: want TB, TD, BT, RL or LR")
			}
		case flowOther.MatchString(t):
		default:
			if err := flowStatement(l.n, t); err != nil {
				return err
			}
		}
	}
	if depth > 0 {
		return errorf(lines[len(lines)-1].n, "%d subgraph(s) not closed by end", depth)
	}
	return nil
}

// flowSubgraph reads the rest of "subgraph ID", "subgraph ID [title]" or
// "subgraph ID["title"]".
func flowSubgraph(n int, s string) error {
	id := flowID.FindString(s)
	if id == "" || id == "end" {
		return errorf(n, "subgraph needs an ID, not %q", s)
	}
	rest := strings.TrimSpace(s[len(id):])
	if rest == "" {
		return nil
	}
	if !strings.HasPrefix(rest, "[") {
		return errorf(n, "after the subgraph's ID %s: %q (a title goes in [ ])", id, rest)
	}
	text, after, ok := shapeText(rest[1:], "]")
	if !ok {
		return errorf(n, "subgraph %s: title not closed in %q", id, rest)
	}
	if strings.TrimSpace(after) != "" {
		return errorf(n, "after the subgraph's title: %q", after)
	}
	return labelText(n, "subgraph "+id, text)
}

// flowStatement reads node (& node)* (link node (& node)*)* [;].
func flowStatement(n int, s string) error {
	s = strings.TrimSuffix(strings.TrimSpace(s), ";")
	needNode := true
	for {
		s = strings.TrimSpace(s)
		if needNode {
			if err := flowNode(n, &s); err != nil {
				return err
			}
			needNode = false
			continue
		}
		if s == "" {
			return nil
		}
		if strings.HasPrefix(s, "&") {
			s = s[1:]
			needNode = true
			continue
		}
		if m := flowTextLink.FindString(s); m != "" {
			if err := labelText(n, "link label", flowTextLink.FindStringSubmatch(s)[2]); err != nil {
				return err
			}
			s = s[len(m):]
			needNode = true
			continue
		}
		m := flowLink.FindString(s)
		if m == "" || strings.HasPrefix(m, "-") && len(m) == 2 { // "--" alone is no link
			return errorf(n, "want a link (-->, ---, -.->, ==>) or the end of the line at %q", s)
		}
		s = strings.TrimSpace(s[len(m):])
		if strings.HasPrefix(s, "|") {
			end := strings.Index(s[1:], "|")
			if end < 0 {
				return errorf(n, "link label |... not closed")
			}
			label := s[1 : 1+end]
			if err := labelText(n, "link label", label); err != nil {
				return err
			}
			s = s[end+2:]
		}
		needNode = true
	}
}

// flowNode reads ID[shape](:::class)? from the front of *s.
func flowNode(n int, s *string) error {
	id := flowID.FindString(*s)
	if id == "" {
		return errorf(n, "want a node ID at %q", *s)
	}
	if id == "end" {
		return errorf(n, "%q cannot be a node ID in Mermaid (it closes a subgraph)", id)
	}
	rest := (*s)[len(id):]
	for _, sh := range shapes {
		if !strings.HasPrefix(rest, sh.open) {
			continue
		}
		body := rest[len(sh.open):]
		text, after, ok := shapeText(body, sh.close)
		if !ok {
			continue
		}
		if err := labelText(n, "node "+id, text); err != nil {
			return err
		}
		rest = after
		break
	}
	if strings.HasPrefix(rest, "[") || strings.HasPrefix(rest, "(") || strings.HasPrefix(rest, "{") {
		return errorf(n, "node %s: shape not closed in %q", id, rest)
	}
	if strings.HasPrefix(rest, ":::") {
		cls := flowID.FindString(rest[3:])
		if cls == "" {
			return errorf(n, "node %s: ::: without a class", id)
		}
		rest = rest[3+len(cls):]
	}
	*s = rest
	return nil
}

// shapeText returns the label up to the closing delimiter, with a quoted
// label read whole.
func shapeText(body, closing string) (text, after string, ok bool) {
	if strings.HasPrefix(body, `"`) {
		end := strings.Index(body[1:], `"`)
		if end < 0 || !strings.HasPrefix(body[end+2:], closing) {
			return "", "", false
		}
		return body[:end+2], body[end+2+len(closing):], true
	}
	end := strings.Index(body, closing)
	if end < 0 {
		return "", "", false
	}
	return body[:end], body[end+len(closing):], true
}

// labelText accepts a quoted label, or a plain one without the characters
// Mermaid reads as the start or end of a shape.
func labelText(n int, what, text string) error {
	if len(text) >= 2 && strings.HasPrefix(text, `"`) && strings.HasSuffix(text, `"`) {
		if strings.Contains(text[1:len(text)-1], `"`) {
			return errorf(n, "%s: a quote inside a quoted label (write #quot;)", what)
		}
		return nil
	}
	if strings.TrimSpace(text) == "" {
		return errorf(n, "%s: empty label", what)
	}
	return plainText(n, what, text)
}

func plainText(n int, what, text string) error {
	if i := strings.IndexAny(text, `()[]{}|"`); i >= 0 {
		return errorf(n, "%s: %q in an unquoted label %q: put the label in quotes", what, text[i], text)
	}
	return nil
}

// --- sequenceDiagram ---

var (
	seqParticipant = regexp.MustCompile(`^(participant|actor)\s+([A-Za-z0-9_]+)(\s+as\s+(.+))?$`)
	seqMessage     = regexp.MustCompile(`^([A-Za-z0-9_]+)\s*(-->>|->>|-->|->|--x|-x|--\)|-\))\s*([+-]?)\s*([A-Za-z0-9_]+)\s*:(.*)$`)
	seqNote        = regexp.MustCompile(`^[Nn]ote\s+(left of|right of|over)\s+([A-Za-z0-9_]+)(\s*,\s*([A-Za-z0-9_]+))?\s*:(.*)$`)
	seqActivate    = regexp.MustCompile(`^(activate|deactivate)\s+([A-Za-z0-9_]+)$`)
	seqOpen        = regexp.MustCompile(`^(loop|alt|opt|par|critical|break|rect|box)(\s.*)?$`)
	seqInner       = regexp.MustCompile(`^(else|and|option)(\s.*)?$`)
)

func checkSequence(lines []line) error {
	declared := map[string]bool{}
	var open []string // the blocks open, innermost last
	for _, l := range lines {
		t := l.text
		if m := seqParticipant.FindStringSubmatch(t); m != nil {
			if declared[m[2]] {
				return errorf(l.n, "participant %s declared twice", m[2])
			}
			declared[m[2]] = true
			continue
		}
		if t == "autonumber" {
			continue
		}
		if m := seqMessage.FindStringSubmatch(t); m != nil {
			for _, p := range []string{m[1], m[4]} {
				if !declared[p] {
					return errorf(l.n, "participant %s is not declared (add: participant %s)", p, p)
				}
			}
			if strings.TrimSpace(m[5]) == "" {
				return errorf(l.n, "message without text after the colon")
			}
			continue
		}
		if m := seqNote.FindStringSubmatch(t); m != nil {
			for _, p := range []string{m[2], m[4]} {
				if p != "" && !declared[p] {
					return errorf(l.n, "note on %s, which is not declared", p)
				}
			}
			continue
		}
		if m := seqActivate.FindStringSubmatch(t); m != nil {
			if !declared[m[2]] {
				return errorf(l.n, "%s of %s, which is not declared", m[1], m[2])
			}
			continue
		}
		if m := seqOpen.FindStringSubmatch(t); m != nil {
			open = append(open, m[1])
			continue
		}
		if m := seqInner.FindStringSubmatch(t); m != nil {
			want := map[string]string{"else": "alt", "and": "par", "option": "critical"}[m[1]]
			if len(open) == 0 || open[len(open)-1] != want {
				return errorf(l.n, "%s outside a %s block", m[1], want)
			}
			continue
		}
		if t == "end" {
			if len(open) == 0 {
				return errorf(l.n, "end without a block")
			}
			open = open[:len(open)-1]
			continue
		}
		if strings.Contains(t, ">") || strings.Contains(t, "-") {
			return errorf(l.n, "cannot read message %q: want A->>B: text, with a known arrow (->>, -->>, ->, -->, -x, --x, -), --))", t)
		}
		return errorf(l.n, "cannot read %q", t)
	}
	if len(open) > 0 {
		return errorf(lines[len(lines)-1].n, "%s block not closed by end", open[len(open)-1])
	}
	if len(lines) == 0 {
		return errorf(1, "empty sequence diagram")
	}
	return nil
}

// --- stateDiagram-v2 ---

var (
	stateID         = `(\[\*\]|[A-Za-z_][A-Za-z0-9_]*)`
	stateTransition = regexp.MustCompile(`^` + stateID + `\s*-->\s*` + stateID + `\s*(:(.*))?$`)
	stateAlias      = regexp.MustCompile(`^state\s+"[^"]+"\s+as\s+[A-Za-z_][A-Za-z0-9_]*$`)
	stateComposite  = regexp.MustCompile(`^state\s+([A-Za-z_][A-Za-z0-9_]*|"[^"]+"\s+as\s+[A-Za-z_][A-Za-z0-9_]*)\s*\{$`)
	stateSpecial    = regexp.MustCompile(`^state\s+[A-Za-z_][A-Za-z0-9_]*\s+<<(choice|fork|join)>>$`)
	stateDescr      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*:\s*\S.*$`)
	stateNoteLine   = regexp.MustCompile(`^note\s+(left of|right of)\s+[A-Za-z_][A-Za-z0-9_]*\s*:\s*\S.*$`)
	stateNoteOpen   = regexp.MustCompile(`^note\s+(left of|right of)\s+[A-Za-z_][A-Za-z0-9_]*$`)
	stateOther      = regexp.MustCompile(`^(classDef|class)\s`)
)

func checkState(lines []line) error {
	depth := 0
	inNote := false
	for _, l := range lines {
		t := l.text
		if inNote {
			if t == "end note" {
				inNote = false
			}
			continue
		}
		switch {
		case stateTransition.MatchString(t):
			if m := stateTransition.FindStringSubmatch(t); m[3] != "" && strings.TrimSpace(m[4]) == "" {
				return errorf(l.n, "transition label empty after the colon")
			}
		case stateComposite.MatchString(t):
			depth++
		case t == "}":
			if depth == 0 {
				return errorf(l.n, "} without a composite state")
			}
			depth--
		case t == "--":
			if depth == 0 {
				return errorf(l.n, "-- (concurrent regions) outside a composite state")
			}
		case stateAlias.MatchString(t), stateSpecial.MatchString(t), stateDescr.MatchString(t),
			stateNoteLine.MatchString(t), stateOther.MatchString(t):
		case stateNoteOpen.MatchString(t):
			inNote = true
		case strings.HasPrefix(t, "direction "):
			if f := strings.Fields(t); len(f) != 2 || !directions[f[1]] {
				return errorf(l.n, "direction: want TB, TD, BT, RL or LR")
			}
		default:
			return errorf(l.n, "cannot read %q: want A --> B, A --> B : label, state \"text\" as A, state A {, A : text, or a note", t)
		}
	}
	if inNote {
		return errorf(lines[len(lines)-1].n, "note not closed by end note")
	}
	if depth > 0 {
		return errorf(lines[len(lines)-1].n, "%d composite state(s) not closed by }", depth)
	}
	if len(lines) == 0 {
		return errorf(1, "empty state diagram")
	}
	return nil
}
