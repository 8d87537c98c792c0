package main

import "flag"

// refuseIgnored is a usage error for each named flag that was set: flags a
// command registers (they come with a shared set) but does not use must
// not be accepted silently.
func refuseIgnored(fs *flag.FlagSet, cmd string, names ...string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n && err == nil {
				err = usageErr("%s: -%s does not apply (%s prints a comparison, not a trace)", cmd, n, cmd)
			}
		}
	})
	return err
}
