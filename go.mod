module lockstep

go 1.26.8

require pgregory.net/rapid v1.3.0

require github.com/benbjohnson/clock v1.3.5
