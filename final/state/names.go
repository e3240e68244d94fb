package state

import (
	"math/rand/v2"
	"strconv"
)

// Generated names are adjective_surname, like docker's "nifty_hopper": 50
// adjectives and 50 computer scientists and engineers give 2500 names.
var (
	adjectives = [...]string{
		"admiring", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave",
		"busy", "calm", "charming", "clever", "cool", "crazy", "determined", "dreamy",
		"eager", "ecstatic", "elastic", "elegant", "epic", "fervent", "festive", "focused",
		"friendly", "gallant", "gifted", "goofy", "happy", "hopeful", "jolly", "keen",
		"kind", "laughing", "loving", "lucid", "modest", "nifty", "nostalgic", "peaceful",
		"pensive", "quirky", "relaxed", "serene", "sharp", "stoic", "tender", "upbeat",
		"vibrant", "zealous",
	}
	surnames = [...]string{
		"allen", "babbage", "backus", "bell", "borg", "cerf", "codd", "conway",
		"cray", "dijkstra", "easley", "engelbart", "feistel", "gates", "goldberg", "hamilton",
		"hawking", "hellman", "hoare", "hopper", "joy", "kahn", "kay", "kernighan",
		"knuth", "lamport", "liskov", "lovelace", "mccarthy", "merkle", "minsky", "moore",
		"morse", "neumann", "noyce", "pike", "ritchie", "rivest", "shamir", "shannon",
		"stallman", "sutherland", "tanenbaum", "thompson", "torvalds", "turing", "wilkes", "wing",
		"wirth", "wozniak",
	}
)

// randomName returns adjective_surname; from the second try on, a digit is
// appended, as moby's namesgenerator.GetRandomName(retry) does.
func randomName(retry int) string {
	name := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
	if retry > 0 {
		name += strconv.Itoa(rand.IntN(10))
	}
	return name
}
