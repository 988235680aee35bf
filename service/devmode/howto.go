package devmode

// HowToStep is one line of the start-up how-to: what it does, and a shell
// command to paste.
type HowToStep struct {
	Step    string
	Command string
}

// HowTo returns the short how-to the service shows at start-up in dev mode:
// the dev console's address, then ready-to-paste shell commands that mint a user token, publish an event as
// that user, list the events and call /whoami as a service, for a service on
// port. It contains no token.
//
// The commands hold no double quote, backslash or HTML character (curl's
// --oauth2-bearer sends the token, and the event is a text/plain body), so
// they survive a JSON log line unescaped and paste as they read.
func HowTo(port string) []HowToStep {
	url := Audience(port)
	env := ""
	if port != DefaultPort {
		// Service tokens carry the port in their audience.
		env = "PORT=" + port + " "
	}
	return []HowToStep{
		{"open the dev console in a browser: the page calls the API as a signed-in user", url + "/"},
		{"mint a user token (valid one hour)", "TOKEN=$(" + env + "go run . token user)"},
		{"publish an event as that user", "curl -sS --oauth2-bearer $TOKEN -H 'Content-Type: text/plain' -d hello " + url + "/api/events"},
		{"list the events (the push loop delivers within a second)", "curl -sS --oauth2-bearer $TOKEN " + url + "/api/events"},
		{"call /whoami as a service", "curl -sS --oauth2-bearer $(" + env + "go run . token service) " + url + "/whoami"},
		{"more token options", "go run . token user --help"},
	}
}
