// Package lessoncheck holds the checks that keep the course's lessons honest,
// run by make lint through its tests: every README's Mermaid diagrams parse,
// every link into GLOSSARY.md names an entry that exists (and every entry is
// linked from a lesson), every relative link leads to a file and heading that
// exist, every library package (every package not named main) starts with
// a package comment, and every lesson README.md (and GLOSSARY.md) has a Korean
// twin README.ko.md that has not drifted from it.
//
// # The Korean twins
//
// Issue 18 gives each lesson a Korean translation beside it. CheckTwins keeps
// a pair together: both start with their language switch, the same headings
// at the same levels in the same order, every fenced block other than
// ```mermaid byte for byte the same in order (commands and program output are
// never translated), as many mermaid blocks, and the Korean text links the
// other Korean files. Lessons finds the lessons (the root README.md and every
// top-level directory's), so a new step is covered without a list to edit;
// TestKoreanTwins names every missing twin at once. Slug keeps Korean letters
// as GitHub does, so a Korean file can link its own headings.
//
// # The Mermaid check
//
// GitHub renders a ```mermaid block with Mermaid, and a block that does not
// parse shows as an error box in the middle of a lesson. Mermaid itself is a
// JavaScript library; rather than bring Node and a headless browser to make
// lint, CheckMermaid is a small parser for the three diagram types the course
// uses, strict where Mermaid is strict and a little stricter where a typo
// would otherwise pass:
//
//   - flowchart (or graph) with a direction: node shapes with balanced
//     brackets, labels with ( ) [ ] { } quoted, the link operators (-->,
//     ---, -.->, ==>, with |labels| or -- label -->), subgraph ... end
//     balanced;
//   - sequenceDiagram: every participant declared (participant or actor)
//     before use, messages with a known arrow and a ": text", Note lines,
//     and loop/alt/opt/par/critical/break/rect blocks closed by end (else
//     only in alt, and only in par);
//   - stateDiagram-v2: transitions (A --> B : label, [*] for start and
//     end), state "..." as X, composite states with balanced braces, notes.
//
// Anything else (a header it does not know, a line it cannot read) is an
// error naming the line, so a new diagram type needs a parser here first.
//
// make lint-mermaid is the cross-check: scripts/mermaid-check.mjs parses the
// same blocks with Mermaid 11 itself in Node (it needs the npm registry once,
// which is why lint does not depend on it). Both accept every diagram of the
// lessons. Of the 23 broken diagrams of TestCheckMermaidRefuses, Mermaid
// refuses 19; the other four it draws, and this check refuses as the typos
// they most often are: a message to an undeclared participant, a note on one,
// a message with nothing after its colon, and a stray } in a state diagram.
//
// # See also
//
// https://mermaid.js.org/syntax/flowchart.html, sequenceDiagram.html,
// stateDiagram.html; GitHub's "Creating diagrams" documentation.
package lessoncheck
