// Package depcheck holds only a test: it enforces the course's import rule.
// Step N may import steps before it and internal/; nothing imports final;
// internal/ never imports final or a step other than step01 (stepcli maps
// errors to step01's exit codes).
package depcheck
