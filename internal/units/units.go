// Package units formats durations and sizes the way the docker CLI does:
// "2 weeks", "4.26MB". It is not a lesson, only the printing.
package units

import (
	"fmt"
	"time"
)

// HumanDuration says how long d is the way docker ps does ("Up 3 seconds",
// "Exited (0) 2 minutes ago"); it follows the thresholds of Docker's
// go-units HumanDuration.
func HumanDuration(d time.Duration) string {
	if seconds := int(d.Seconds()); seconds < 1 {
		return "Less than a second"
	} else if seconds == 1 {
		return "1 second"
	} else if seconds < 60 {
		return fmt.Sprintf("%d seconds", seconds)
	} else if minutes := int(d.Minutes()); minutes == 1 {
		return "About a minute"
	} else if minutes < 60 {
		return fmt.Sprintf("%d minutes", minutes)
	} else if hours := int(d.Hours() + 0.5); hours == 1 {
		return "About an hour"
	} else if hours < 48 {
		return fmt.Sprintf("%d hours", hours)
	} else if hours < 24*7*2 {
		return fmt.Sprintf("%d days", hours/24)
	} else if hours < 24*30*2 {
		return fmt.Sprintf("%d weeks", hours/24/7)
	} else if hours < 24*365*2 {
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}

// HumanSize is a size in decimal units with three significant digits, as
// docker images shows it ("4.26MB", "1.2GB", "745kB").
func HumanSize(size int64) string { return HumanSizeWithPrecision(size, 3) }

// HumanSizeWithPrecision is a size in decimal units with precision
// significant digits: docker system df and the prunes' "Total reclaimed
// space" show four ("16.43MB"), as go-units' HumanSize does.
func HumanSizeWithPrecision(size int64, precision int) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(size)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.*g%s", precision, f, units[i])
}

// BytesSize is a size in binary units with four significant digits, as
// docker stats shows memory ("19.94MiB", "64MiB").
func BytesSize(size float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	i := 0
	for size >= 1024 && i < len(units)-1 {
		size /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", size, units[i])
}
