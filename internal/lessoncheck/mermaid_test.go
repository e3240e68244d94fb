package lessoncheck

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckMermaidAccepts(t *testing.T) {
	good := map[string]string{
		"flowchart with shapes, labels and subgraphs": `
flowchart TB
    %% a comment
    host["host: step02 run"] -->|clone + execve| init("init, PID 1")
    init -- "execve(sh)" --> sh[[sh]]
    subgraph ns ["the container's namespaces"]
        direction LR
        init
        sh
    end
    a & b --> c
    c -.-> d{"a decision?"}
    d ==> e((end state)) --- f
    f --x g
    classDef warn fill:#fee
    class g warn
`,
		"graph LR": "graph LR\n  A --> B\n",
		"sequence": `
sequenceDiagram
    participant C as minidocker
    actor U
    participant R as registry
    autonumber
    U->>C: pull busybox
    C->>+R: GET /v2/
    R-->>-C: 401 Unauthorized
    Note over C,R: tokens are per scope
    loop each layer
        C->>R: GET blob
        alt digest matches
            R-->>C: 200
        else
            R--xC: cut
        end
    end
    par three at a time
        C-)R: GET a
    and
        C-)R: GET b
    end
    activate C
    deactivate C
`,
		"state": `
stateDiagram-v2
    direction LR
    state "created" as Created
    [*] --> Created
    Created --> Running : start
    Running --> Exited : exit, stop, kill
    Exited --> Running : start
    Exited --> [*] : rm
    state Running {
        [*] --> Up
        Up --> Paused : pause
        Paused --> Up : unpause
    }
    Running : the monitor waits
    note right of Exited : ExitCode, FinishedAt
    note left of Created
        config.json, state.json
    end note
`,
	}
	for name, d := range good {
		if err := CheckMermaid(d); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Each broken diagram must be refused, at the line given, with the words
// given: the check would be worthless if it passed these.
func TestCheckMermaidRefuses(t *testing.T) {
	bad := []struct {
		name, diagram string
		line          int
		want          string
	}{
		{"unknown type", "flowchat TB\nA --> B", 1, "unknown diagram type"},
		{"bad direction", "flowchart XY\nA --> B", 1, "direction"},
		{"single-dash arrow", "flowchart TB\nA -> B", 2, "want a link"},
		{"unclosed shape", "flowchart TB\nA[text --> B", 2, "not closed"},
		{"parens in a plain label", "flowchart TB\nA[run (init)] --> B", 2, "put the label in quotes"},
		{"unclosed subgraph", "flowchart TB\nsubgraph x\nA --> B", 3, "not closed by end"},
		{"end without subgraph", "flowchart TB\nA --> B\nend", 3, "end without"},
		{"end as a node", "flowchart TB\nA --> end", 2, "cannot be a node ID"},
		{"unclosed edge label", "flowchart TB\nA -->|oops B", 2, "not closed"},
		{"dangling link", "flowchart TB\nA -->", 2, "want a node ID"},
		{"undeclared participant", "sequenceDiagram\nparticipant A\nA->>B: hi", 3, "B is not declared"},
		{"message without text", "sequenceDiagram\nparticipant A\nparticipant B\nA->>B:", 4, "without text"},
		{"message without colon", "sequenceDiagram\nparticipant A\nparticipant B\nA->>B", 4, "cannot read message"},
		{"bad arrow", "sequenceDiagram\nparticipant A\nparticipant B\nA=>>B: hi", 4, "cannot read"},
		{"else outside alt", "sequenceDiagram\nparticipant A\nloop x\nelse\nend", 4, "else outside"},
		{"unclosed loop", "sequenceDiagram\nparticipant A\nparticipant B\nloop x\nA->>B: hi", 5, "not closed"},
		{"note on a stranger", "sequenceDiagram\nparticipant A\nNote over A,Z: hi", 3, "Z, which is not declared"},
		{"state: bad arrow", "stateDiagram-v2\nA -> B", 2, "cannot read"},
		{"state: unclosed composite", "stateDiagram-v2\nstate A {\nB --> C", 3, "not closed"},
		{"state: stray brace", "stateDiagram-v2\nA --> B\n}", 3, "without a composite"},
		{"state: empty label", "stateDiagram-v2\nA --> B :", 2, "label empty"},
		{"state: unclosed note", "stateDiagram-v2\nnote right of A\ntext", 3, "end note"},
		{"empty", "%% nothing\n", 1, "empty"},
	}
	for _, tc := range bad {
		err := CheckMermaid(tc.diagram)
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("%s: got %v, want a LineError", tc.name, err)
			continue
		}
		if le.Line != tc.line || !strings.Contains(le.Msg, tc.want) {
			t.Errorf("%s: got %v, want line %d containing %q", tc.name, err, tc.line, tc.want)
		}
	}
}

func TestMermaidBlocks(t *testing.T) {
	md := "# T\n\n```mermaid\nflowchart LR\nA --> B\n```\n\ntext\n\n```go\nx\n```\n  ```mermaid\n  sequenceDiagram\n  ```\n"
	got := MermaidBlocks(md)
	if len(got) != 2 {
		t.Fatalf("got %d blocks, want 2: %+v", len(got), got)
	}
	if got[0].Line != 4 || got[0].Text != "flowchart LR\nA --> B" {
		t.Errorf("first block: %+v", got[0])
	}
	if got[1].Line != 14 || strings.TrimSpace(got[1].Text) != "sequenceDiagram" {
		t.Errorf("second block: %+v", got[1])
	}
	unclosed := MermaidBlocks("```mermaid\nflowchart LR\nA --> B\n")
	if len(unclosed) != 1 || CheckMermaid(unclosed[0].Text) == nil {
		t.Errorf("an unclosed fence must be reported: %+v", unclosed)
	}
}

func TestSlugAndAnchors(t *testing.T) {
	for in, want := range map[string]string{
		"diffID":                       "diffid",
		"DNAT and masquerade":          "dnat-and-masquerade",
		"`pivot_root`":                 "pivot_root",
		"Overlay: upper, lower, work":  "overlay-upper-lower-work",
		"cgroup v1 / v2":               "cgroup-v1--v2",
		"SCM_RIGHTS (passing an fd)":   "scm_rights-passing-an-fd",
		"no_new_privs":                 "no_new_privs",
		"Opaque dir (.wh..wh..opq)":    "opaque-dir-whwhopq",
		"Step 3 — images as layers":    "step-3--images-as-layers",
		"RCU (read-copy-update)":       "rcu-read-copy-update",
		"What root may still do: caps": "what-root-may-still-do-caps",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	a := Anchors("# Top\n## veth\n```\n## not a heading\n```\n## veth\n")
	for _, want := range []string{"top", "veth", "veth-1"} {
		if !a[want] {
			t.Errorf("anchor %q missing from %v", want, a)
		}
	}
	if a["not-a-heading"] {
		t.Errorf("a heading in a code fence made an anchor: %v", a)
	}
}

func TestLinks(t *testing.T) {
	md := "see [veth](../GLOSSARY.md#veth) and `[x](GLOSSARY.md#code)`\n```\n[y](GLOSSARY.md#fenced)\n```\n[z](a.md)\n" +
		"a span `that runs\nover [a](GLOSSARY.md#spanned) line` then [b](GLOSSARY.md#after)\n\n" +
		"an unclosed ` span\n\n[c](GLOSSARY.md#next-paragraph)"
	got := Links(md)
	want := []Link{{1, "../GLOSSARY.md", "veth"}, {5, "a.md", ""}, {7, "GLOSSARY.md", "after"}, {11, "GLOSSARY.md", "next-paragraph"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("link %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
