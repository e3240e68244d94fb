// Package lessoncheck holds the checks that keep the course's lessons honest,
// run by make lint through its tests: every README's Mermaid diagrams parse,
// every link into GLOSSARY.md names an entry that exists (and every entry is
// linked from a lesson), every relative link leads to a file and heading that
// exist, and every library package (every package not named main) starts with
// a package comment.
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
