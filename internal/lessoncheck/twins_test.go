package lessoncheck

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKoreanTwins: every lesson README (the root's, each step's, final's and
// any lesson added later) and GLOSSARY.md has a Korean twin X.ko.md beside it,
// and the two have not drifted apart (see CheckTwins). The glossary's twin
// keeps every entry's heading as in English, so that its anchors are the same.
func TestKoreanTwins(t *testing.T) {
	root := repoRoot(t)
	files, err := Lessons(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("found only %d lesson READMEs under %s: %v", len(files), root, files)
	}
	files = append(files, "GLOSSARY.md")
	if missing := MissingTwins(root, files); len(missing) > 0 {
		t.Errorf("%d Korean twins missing (each lesson README.md needs a README.ko.md beside it): %s",
			len(missing), strings.Join(missing, ", "))
	}
	for _, f := range files {
		ko := KoreanTwin(f)
		enSrc, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		koSrc, err := os.ReadFile(filepath.Join(root, ko))
		if err != nil {
			continue // reported above, with the others
		}
		for _, err := range CheckTwins(f, string(enSrc), ko, string(koSrc)) {
			t.Error(err)
		}
		if f == "GLOSSARY.md" {
			for _, err := range sameEntries(f, string(enSrc), ko, string(koSrc)) {
				t.Error(err)
			}
		}
	}
}

// sameEntries: the glossary's ### entry headings are identical in both files.
func sameEntries(enName, en, koName, ko string) []error {
	var errs []error
	enHeads, _ := outline(en)
	koHeads, _ := outline(ko)
	for i := 0; i < len(enHeads) && i < len(koHeads); i++ {
		if e, k := enHeads[i], koHeads[i]; e.level == 3 && e.text != k.text {
			errs = append(errs, &twinError{enName + ":" + itoa(e.line) + ": entry " + e.text + " is " + k.text +
				" at " + koName + ":" + itoa(k.line) + "; the Korean glossary keeps each entry's heading, and so its anchor"})
		}
	}
	return errs
}

type twinError struct{ msg string }

func (e *twinError) Error() string { return e.msg }

// A lesson pair that has not drifted, the fixture the next tests break one
// rule at a time.
const (
	fixtureEN = "English | [한국어](README.ko.md)\n\n# Step 9 — a lesson\n\nSome prose, [a term](../GLOSSARY.md#namespace).\n\n" +
		"## Run it\n\n```console\n$ sudo ./demo\nhello\n```\n\n```mermaid\nflowchart LR\n  A[host] --> B[container]\n```\n\n" +
		"### Why\n\n```go\nfmt.Println(\"# not a heading\")\n```\n\nSee [step 3](../step03/README.md#why).\n"
	fixtureKO = "[English](README.md) | 한국어\n\n# 9단계 — 수업\n\n설명, [용어](../GLOSSARY.ko.md#namespace).\n\n" +
		"## 실행하기\n\n```console\n$ sudo ./demo\nhello\n```\n\n```mermaid\nflowchart LR\n  A[호스트] --> B[컨테이너]\n```\n\n" +
		"### 왜\n\n```go\nfmt.Println(\"# not a heading\")\n```\n\n[3단계](../step03/README.ko.md#왜)를 보십시오.\n"
)

// TestCheckTwinsAccepts: a faithful translation passes, mermaid labels and
// all.
func TestCheckTwinsAccepts(t *testing.T) {
	if errs := CheckTwins("README.md", fixtureEN, "README.ko.md", fixtureKO); len(errs) > 0 {
		t.Errorf("a faithful pair refused: %v", errs)
	}
}

// TestCheckTwinsRefuses: each rule fails when broken, and says where.
func TestCheckTwinsRefuses(t *testing.T) {
	for _, tc := range []struct {
		name   string
		en, ko string
		want   []string // what the errors must say
	}{
		{"a changed command", fixtureEN, strings.Replace(fixtureKO, "$ sudo ./demo", "$ sudo ./데모", 1),
			[]string{"fenced block 1 differs", "README.md:10", "README.ko.md:10", "$ sudo ./데모"}},
		{"translated program output", fixtureEN, strings.Replace(fixtureKO, "hello\n", "안녕\n", 1),
			[]string{"fenced block 1 differs", "README.md:11", "README.ko.md:11"}},
		{"a changed info string", fixtureEN, strings.Replace(fixtureKO, "```go", "```golang", 1),
			[]string{"fenced block 2 differs", "README.md:21", "README.ko.md:21"}},
		{"a block dropped", fixtureEN, strings.Replace(fixtureKO, "```go\nfmt.Println(\"# not a heading\")\n```\n", "", 1),
			[]string{"README.md:21: fenced block 2 has no counterpart in README.ko.md"}},
		{"a mermaid block dropped", fixtureEN, strings.Replace(fixtureKO, "```mermaid\nflowchart LR\n  A[호스트] --> B[컨테이너]\n```\n", "", 1),
			[]string{"README.md has 1 mermaid blocks, README.ko.md has 0"}},
		{"a missing section", fixtureEN, strings.Replace(fixtureKO, "### 왜\n", "", 1),
			[]string{"README.md has 3 headings, README.ko.md has 2", "heading 3: README.md:19 \"Why\" (level 3, after 2 fenced blocks) vs README.ko.md: (no more headings)"}},
		{"a section added", fixtureEN, fixtureKO + "\n## 덧붙임\n",
			[]string{"README.md has 3 headings, README.ko.md has 4", "README.ko.md:27 \"덧붙임\" (level 2, after 3 fenced blocks)"}},
		{"a section at another level", fixtureEN, strings.Replace(fixtureKO, "## 실행하기", "### 실행하기", 1),
			[]string{"heading 2: README.md:7 \"Run it\" (level 2, after 0 fenced blocks) vs README.ko.md:7 \"실행하기\" (level 3, after 0 fenced blocks) differ in level"}},
		{"a block moved to another section", fixtureEN, strings.Replace(strings.Replace(fixtureKO, "```go\nfmt.Println(\"# not a heading\")\n```\n", "", 1), "### 왜\n", "```go\nfmt.Println(\"# not a heading\")\n```\n### 왜\n", 1),
			[]string{"heading 3: README.md:19 \"Why\" (level 3, after 2 fenced blocks) vs README.ko.md:22 \"왜\" (level 3, after 3 fenced blocks) differ in level or place"}},
		{"no switch in English", strings.Replace(fixtureEN, "English | [한국어](README.ko.md)\n\n", "", 1), fixtureKO,
			[]string{"README.md:1: the first line is \"# Step 9 — a lesson\"", "English | [한국어](README.ko.md)"}},
		{"no switch in Korean", fixtureEN, strings.Replace(fixtureKO, "[English](README.md) | 한국어\n\n", "", 1),
			[]string{"README.ko.md:1", "[English](README.md) | 한국어"}},
		{"a link to an English lesson", fixtureEN, strings.Replace(fixtureKO, "README.ko.md#왜", "README.md#why", 1),
			[]string{"README.ko.md:25: link to ../step03/README.md", "../step03/README.ko.md"}},
		{"a link to the English glossary", fixtureEN, strings.Replace(fixtureKO, "GLOSSARY.ko.md", "GLOSSARY.md", 1),
			[]string{"README.ko.md:5: link to ../GLOSSARY.md"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := CheckTwins("README.md", tc.en, "README.ko.md", tc.ko)
			if len(errs) == 0 {
				t.Fatal("accepted")
			}
			var msgs []string
			for _, err := range errs {
				msgs = append(msgs, err.Error())
			}
			all := strings.Join(msgs, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("the errors do not say %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestCheckTwinsGlossary: the switch lines name the file's own twin.
func TestCheckTwinsGlossary(t *testing.T) {
	en := "English | [한국어](GLOSSARY.ko.md)\n\n# Glossary\n\n### namespace\n"
	ko := "[English](GLOSSARY.md) | 한국어\n\n# 용어집\n\n### namespace\n"
	if errs := CheckTwins("GLOSSARY.md", en, "GLOSSARY.ko.md", ko); len(errs) > 0 {
		t.Errorf("refused: %v", errs)
	}
	if errs := sameEntries("GLOSSARY.md", en, "GLOSSARY.ko.md", strings.Replace(ko, "### namespace", "### 네임스페이스", 1)); len(errs) != 1 {
		t.Errorf("a translated entry heading: got %v, want 1 error", errs)
	}
}

// TestLessonsAndMissingTwins: a new step's lesson is found without being
// listed anywhere, make exercise's workspace is not a lesson, and every
// missing twin is named at once.
func TestLessonsAndMissingTwins(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"README.md", "README.ko.md", "step01-x/README.md", "step01-x/README.ko.md",
		"step07-new/README.md", "final/README.md", "internal/notes.md", "workspace/03/README.md", ".git/README.md"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("# x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Lessons(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "README.md final/README.md step01-x/README.md step07-new/README.md" {
		t.Errorf("Lessons: got %v", got)
	}
	if missing := MissingTwins(dir, got); strings.Join(missing, " ") != "final/README.ko.md step07-new/README.ko.md" {
		t.Errorf("MissingTwins: got %v, want [final/README.ko.md step07-new/README.ko.md]", missing)
	}
}

// TestSlugKorean: anchors as GitHub makes them, for the Korean twins' own
// headings: Korean letters kept, Latin lower-cased, each space a -,
// punctuation other than - and _ dropped, markup dropped, duplicates -1, -2.
func TestSlugKorean(t *testing.T) {
	for heading, want := range map[string]string{
		"1단계 — 컨테이너는 프로세스입니다":                             "1단계--컨테이너는-프로세스입니다",
		"`clone(2)`와 CLONE_NEWPID: 새 PID 네임스페이스":          "clone2와-clone_newpid-새-pid-네임스페이스",
		"왜 `pivot_root`인가? (chroot가 아니라)":                 "왜-pivot_root인가-chroot가-아니라",
		"읽기 전용 (Read Only) 레이어와 읽기/쓰기 (Read & Write) 레이어": "읽기-전용-read-only-레이어와-읽기쓰기-read--write-레이어",
		"**도커 데몬**과 /var/run/docker.sock":                 "도커-데몬과-varrundockersock",
		"diffID, chainID": "diffid-chainid",
		"Café — naïve":    "café--naïve",
		"Cafe\u0301":      "cafe\u0301", // a combining accent is kept, as GitHub keeps \p{M}
		"「따옴표」와 “인용”, 그리고 …": "따옴표와-인용-그리고-",
	} {
		if got := Slug(heading); got != want {
			t.Errorf("Slug(%q) = %q, want %q", heading, got, want)
		}
	}
	md := "# 실습\n\n## 실습\n\n```\n# 실습\n```\n\n### 실습\n\n## 정리\n"
	got := Anchors(md)
	for _, a := range []string{"실습", "실습-1", "실습-2", "정리"} {
		if !got[a] {
			t.Errorf("Anchors: no #%s in %v", a, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("Anchors: got %v, want 4 (a heading in a fence is not one)", got)
	}
}
