package scripts

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const (
	project     = "demo-proj"
	secretValue = "sk_test_NOT_A_REAL_KEY_8f3a9c"
	publishable = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
	origins     = "https://app.example.com,https://admin.example.com"
)

// deployScripts are the scripts that talk to gcloud.
var deployScripts = []string{"bootstrap.sh", "clerk-secret.sh", "deploy.sh", "pubsub.sh", "scheduler.sh", "memorystore.sh", "smoke.sh", "gateway.sh"}

func saEmail(name string) string { return name + "@" + project + ".iam.gserviceaccount.com" }

// serviceEnv replays the env-var flags of every deploy and update of the
// Cloud Run service, in order, and returns the environment it ends with.
func serviceEnv(cs calls) map[string]string {
	env := map[string]string{}
	for _, c := range cs {
		if !c.is("run", "deploy") && !c.is("run", "services", "update") {
			continue
		}
		if v, ok := c.flag("update-env-vars"); ok {
			maps.Copy(env, envVars(v))
		}
		if v, ok := c.flag("remove-env-vars"); ok {
			for _, k := range strings.Split(v, ",") {
				delete(env, k)
			}
		}
	}
	return env
}

// TestFromZero runs the whole sequence against the fake gcloud, as the README
// tells an operator to, and checks that every piece names the same URL,
// audience, service accounts, topic and secret.
func TestFromZero(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	var outputs []string
	add := func(r result) { outputs = append(outputs, r.stdout, r.stderr) }

	add(s.mustRun(t, "", env, "bootstrap.sh"))
	add(s.mustRun(t, secretValue+"\n", env, "clerk-secret.sh"))
	add(s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=us-central1-docker.pkg.dev/demo-proj/pushgate/pushgate:1",
		"--clerk-publishable-key="+publishable, "--cors-allowed-origins", origins))
	add(s.mustRun(t, "", env, "pubsub.sh"))
	add(s.mustRun(t, "", env, "scheduler.sh"))
	add(s.mustRun(t, "", env, "memorystore.sh"))
	add(s.mustRun(t, "", env, "smoke.sh"))
	cs := s.calls(t)

	runtimeSA, pushSA, schedulerSA, buildSA := saEmail("pushgate-run"), saEmail("pushgate-push"), saEmail("pushgate-scheduler"), saEmail("pushgate-build")
	agent := "serviceAccount:service-" + fakeProjectNumber + "@gcp-sa-pubsub.iam.gserviceaccount.com"
	for _, name := range []string{"pushgate-run", "pushgate-push", "pushgate-scheduler", "pushgate-build"} {
		cs.one(t, "iam", "service-accounts", "create", name)
	}

	t.Run("service environment", func(t *testing.T) {
		deploy := cs.one(t, "run", "deploy", "pushgate")
		if !deploy.has("--no-invoker-iam-check") {
			t.Errorf("deploy lacks --no-invoker-iam-check: %q", deploy)
		}
		if deploy.has("--allow-unauthenticated") || deploy.has("--invoker-iam-check") {
			t.Errorf("deploy must not touch invoker IAM otherwise: %q", deploy)
		}
		if got, _ := deploy.flag("service-account"); got != runtimeSA {
			t.Errorf("got runtime SA %q, want %q", got, runtimeSA)
		}
		if got, _ := deploy.flag("set-secrets"); got != "CLERK_SECRET_KEY=clerk-secret-key:latest" {
			t.Errorf("got --set-secrets=%q, want CLERK_SECRET_KEY=clerk-secret-key:latest", got)
		}
		got := serviceEnv(cs)
		want := map[string]string{
			"GOOGLE_CLOUD_PROJECT":     project,
			"AUTH_GOOGLE_AUDIENCES":    fakeURL,
			"PUBSUB_TOPIC":             "pushgate-events",
			"CLERK_PUBLISHABLE_KEY":    publishable,
			"CLERK_AUTHORIZED_PARTIES": origins,
			"CORS_ALLOWED_ORIGINS":     origins,
			"DEDUP_REDIS_URL":          "redis://10.20.30.40:6379/0",
		}
		if !maps.Equal(got, want) {
			t.Errorf("service environment:\n got %v\nwant %v", got, want)
		}
		// The first deploy could not know status.url: it used the
		// deterministic URL and was corrected once the URL was known.
		first := envVars(must(deploy.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]
		if wantFirst := "https://pushgate-" + fakeProjectNumber + ".us-central1.run.app"; first != wantFirst {
			t.Errorf("first deploy audience %q, want %q", first, wantFirst)
		}
	})

	audiences := strings.Split(serviceEnv(cs)["AUTH_GOOGLE_AUDIENCES"], ",")
	accepts := func(aud string) bool { return slices.Contains(audiences, aud) }
	serviceProjectSA := func(email string) bool {
		return strings.HasSuffix(email, "@"+serviceEnv(cs)["GOOGLE_CLOUD_PROJECT"]+".iam.gserviceaccount.com")
	}

	t.Run("push subscription", func(t *testing.T) {
		sub := cs.one(t, "pubsub", "subscriptions", "create", "pushgate-push")
		if got, _ := sub.flag("push-endpoint"); got != fakeURL+"/pubsub/push" {
			t.Errorf("got --push-endpoint=%q, want %s/pubsub/push", got, fakeURL)
		}
		if got, _ := sub.flag("push-auth-token-audience"); !accepts(got) {
			t.Errorf("got --push-auth-token-audience=%q, which AUTH_GOOGLE_AUDIENCES=%q does not accept", got, audiences)
		}
		got, _ := sub.flag("push-auth-service-account")
		if got != pushSA || !serviceProjectSA(got) {
			t.Errorf("got --push-auth-service-account=%q, want %q of the service's project", got, pushSA)
		}
		if topic, _ := sub.flag("topic"); topic != serviceEnv(cs)["PUBSUB_TOPIC"] {
			t.Errorf("subscription topic %q, service publishes to %q", topic, serviceEnv(cs)["PUBSUB_TOPIC"])
		}
		dl, _ := sub.flag("dead-letter-topic")
		for _, f := range []string{"min-retry-delay", "max-retry-delay", "max-delivery-attempts", "ack-deadline"} {
			if _, ok := sub.flag(f); !ok {
				t.Errorf("subscription lacks --%s", f)
			}
		}
		if dl == "" || !cs.binding([]string{"pubsub", "topics"}, dl, agent, "roles/pubsub.publisher") {
			t.Errorf("Pub/Sub agent cannot publish to the dead-letter topic %q", dl)
		}
		if !cs.binding([]string{"pubsub", "subscriptions"}, "pushgate-push", agent, "roles/pubsub.subscriber") {
			t.Error("Pub/Sub agent is not a subscriber of the push subscription")
		}
		if !cs.binding([]string{"iam", "service-accounts"}, pushSA, agent, "roles/iam.serviceAccountTokenCreator") {
			t.Error("Pub/Sub agent cannot mint tokens as the push SA")
		}
	})

	t.Run("scheduler job", func(t *testing.T) {
		job := cs.one(t, "scheduler", "jobs", "create", "http", "heartbeat")
		if got, _ := job.flag("uri"); got != fakeURL+"/scheduler/heartbeat" {
			t.Errorf("got --uri=%q, want %s/scheduler/heartbeat", got, fakeURL)
		}
		if got, _ := job.flag("oidc-token-audience"); !accepts(got) {
			t.Errorf("got --oidc-token-audience=%q, which AUTH_GOOGLE_AUDIENCES=%q does not accept", got, audiences)
		}
		got, _ := job.flag("oidc-service-account-email")
		if got != schedulerSA || !serviceProjectSA(got) {
			t.Errorf("got --oidc-service-account-email=%q, want %q of the service's project", got, schedulerSA)
		}
		if got, _ := job.flag("http-method"); got != "POST" {
			t.Errorf("got --http-method=%q, want POST", got)
		}
	})

	t.Run("runtime and build IAM", func(t *testing.T) {
		member := "serviceAccount:" + runtimeSA
		if !cs.binding([]string{"pubsub", "topics"}, serviceEnv(cs)["PUBSUB_TOPIC"], member, "roles/pubsub.publisher") {
			t.Error("runtime SA cannot publish to PUBSUB_TOPIC")
		}
		if !cs.binding([]string{"secrets"}, "clerk-secret-key", member, "roles/secretmanager.secretAccessor") {
			t.Error("runtime SA cannot read the Clerk secret it mounts")
		}
		cs.one(t, "secrets", "create", "clerk-secret-key")
		build := "serviceAccount:" + buildSA
		if !cs.binding([]string{"iam", "service-accounts"}, runtimeSA, build, "roles/iam.serviceAccountUser") {
			t.Error("build SA cannot deploy as the runtime SA")
		}
		if !cs.binding([]string{"projects"}, project, build, "roles/run.admin") {
			t.Error("build SA lacks roles/run.admin")
		}
		if !cs.binding([]string{"artifacts", "repositories"}, "pushgate", build, "roles/artifactregistry.writer") {
			t.Error("build SA cannot push images")
		}
		for _, c := range cs.find("projects", "add-iam-policy-binding") {
			if m, _ := c.flag("member"); m != build {
				t.Errorf("project-wide grant to %s: %q", m, c)
			}
		}
	})

	t.Run("memorystore", func(t *testing.T) {
		create := cs.one(t, "redis", "instances", "create", "pushgate-dedup")
		for flag, want := range map[string]string{"tier": "basic", "size": "1", "region": "us-central1"} {
			if got, _ := create.flag(flag); got != want {
				t.Errorf("redis create --%s=%q, want %q", flag, got, want)
			}
		}
		update := cs.find("run", "services", "update")
		last := update[len(update)-1]
		if got, _ := last.flag("vpc-egress"); got != "private-ranges-only" {
			t.Errorf("got --vpc-egress=%q, want private-ranges-only", got)
		}
		for _, f := range []string{"network", "subnet"} {
			if _, ok := last.flag(f); !ok {
				t.Errorf("Direct VPC egress update lacks --%s", f)
			}
		}
	})

	t.Run("smoke", func(t *testing.T) {
		goCalls := readCalls(t, s.goLog)
		if len(goCalls) != 1 {
			t.Fatalf("got %d go calls, want 1", len(goCalls))
		}
		g := goCalls[0]
		if !g.has("run") || !g.has("./scripts/smoke") {
			t.Errorf("got go %q, want go run ./scripts/smoke", g)
		}
		url, _ := g.flag("url")
		aud, _ := g.flag("audience")
		if url != fakeURL || !accepts(aud) {
			t.Errorf("smoke --url=%q --audience=%q; want %s and an accepted audience", url, aud, fakeURL)
		}
	})

	t.Run("secret stays off command lines", func(t *testing.T) {
		assertNoSecret(t, s, outputs)
		got, err := os.ReadFile(s.state + "/secret-stdin")
		if err != nil || string(got) != secretValue {
			t.Errorf("gcloud got %q on stdin (%v), want the key", got, err)
		}
		add := cs.one(t, "secrets", "versions", "add", "clerk-secret-key")
		if v, _ := add.flag("data-file"); v != "-" {
			t.Errorf("secret added with --data-file=%q, want -", v)
		}
	})
}

// assertNoSecret fails if the secret is in any gcloud argv or any output.
func assertNoSecret(t *testing.T, s *sandbox, outputs []string) {
	t.Helper()
	for _, f := range []string{s.gcloudLog, s.goLog} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), secretValue) || strings.Contains(string(b), "sk_test_") {
			t.Errorf("a secret key is in the argv log %s", f)
		}
	}
	for _, o := range outputs {
		if strings.Contains(o, secretValue) {
			t.Errorf("a script printed the secret key:\n%s", o)
		}
	}
}

func must(v string, ok bool) string {
	if !ok {
		return "<unset>"
	}
	return v
}

// TestDryRun runs every script with --dry-run: gcloud is never called, and
// the printed commands agree on URL, audience and service accounts.
func TestDryRun(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	printed := map[string]calls{}
	stdout := map[string]string{}
	var outputs []string
	for _, script := range deployScripts {
		args := []string{"--dry-run"}
		if script == "deploy.sh" {
			args = append(args, "--via=image", "--image=img", "--clerk-publishable-key="+publishable)
		}
		r := s.mustRun(t, secretValue, env, script, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		stdout[script] = r.stdout
		printed[script] = printedCalls(r.stdout)
		if script != "smoke.sh" && len(printed[script]) == 0 {
			t.Errorf("%s --dry-run printed no gcloud command:\n%s", script, r.stdout)
		}
	}
	if cs := s.calls(t); len(cs) != 0 {
		t.Errorf("a dry run called gcloud:\n%s", cs)
	}
	if goCalls := readCalls(t, s.goLog); len(goCalls) != 0 {
		t.Errorf("a dry run called go: %q", goCalls)
	}
	assertNoSecret(t, s, outputs)

	// With no project number known, every script prints the same
	// placeholder URL, derived in lib.sh.
	wantURL := "https://pushgate-PROJECT_NUMBER.us-central1.run.app"
	audience := serviceEnv(printed["deploy.sh"])["AUTH_GOOGLE_AUDIENCES"]
	if audience != wantURL {
		t.Errorf("deploy AUTH_GOOGLE_AUDIENCES=%q, want %q", audience, wantURL)
	}
	sub := printed["pubsub.sh"].one(t, "pubsub", "subscriptions", "create", "pushgate-push")
	job := printed["scheduler.sh"].one(t, "scheduler", "jobs", "create", "http", "heartbeat")
	checks := []struct{ what, got, want string }{
		{"--push-auth-token-audience", must(sub.flag("push-auth-token-audience")), audience},
		{"--push-endpoint", must(sub.flag("push-endpoint")), audience + "/pubsub/push"},
		{"--push-auth-service-account", must(sub.flag("push-auth-service-account")), saEmail("pushgate-push")},
		{"--oidc-token-audience", must(job.flag("oidc-token-audience")), audience},
		{"--uri", must(job.flag("uri")), audience + "/scheduler/heartbeat"},
		{"--oidc-service-account-email", must(job.flag("oidc-service-account-email")), saEmail("pushgate-scheduler")},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s=%q, want %q", c.what, c.got, c.want)
		}
	}
	deploy := printed["deploy.sh"].one(t, "run", "deploy", "pushgate")
	if !deploy.has("--no-invoker-iam-check") {
		t.Errorf("dry-run deploy lacks --no-invoker-iam-check: %q", deploy)
	}
	if !strings.Contains(strings.Join(printed["clerk-secret.sh"].one(t, "secrets", "versions", "add").words(), " "), "clerk-secret-key") {
		t.Error("clerk-secret.sh --dry-run does not print the versions add command")
	}

	// The gateway's backend is the same URL, its tokens carry the same
	// audience, and the spec a dry run prints is the one the config uses.
	gw := printed["gateway.sh"]
	checkGatewayCalls(t, gw, "pushgate", "pushgate-gateway", "us-central1")
	cfg := gw.one(t, "api-gateway", "api-configs", "create")
	file, doc := printedSpec(t, stdout["gateway.sh"])
	if got := must(cfg.flag("openapi-spec")); got != file {
		t.Errorf("api-configs create --openapi-spec=%q, but the dry run wrote the spec to %q", got, file)
	}
	checkSpec(t, doc, audience)
}

// gatewayServices are the services API Gateway needs enabled.
var gatewayServices = []string{"apigateway.googleapis.com", "servicemanagement.googleapis.com", "servicecontrol.googleapis.com"}

// checkGatewayCalls checks what a first gateway.sh run does: enable the
// services, create the gateway SA, the API, one config (whose backend
// identity is the gateway SA) and the gateway serving it.
func checkGatewayCalls(t *testing.T, cs calls, api, gateway, location string) {
	t.Helper()
	gatewaySA := saEmail("pushgate-gateway")
	enabled := map[string]bool{}
	for _, c := range cs.find("services", "enable") {
		for _, w := range c.words()[2:] {
			enabled[w] = true
		}
	}
	for _, svc := range gatewayServices {
		if !enabled[svc] {
			t.Errorf("gateway.sh does not enable %s", svc)
		}
	}
	cs.one(t, "iam", "service-accounts", "create", "pushgate-gateway")
	cs.one(t, "api-gateway", "apis", "create", api)
	cfg := cs.one(t, "api-gateway", "api-configs", "create")
	id := cfg.words()[3]
	if !regexp.MustCompile(`^` + api + `-[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("config ID %q, want %s-HASH", id, api)
	}
	if got := must(cfg.flag("api")); got != api {
		t.Errorf("api-configs create --api=%q, want %q", got, api)
	}
	if got := must(cfg.flag("backend-auth-service-account")); got != gatewaySA {
		t.Errorf("api-configs create --backend-auth-service-account=%q, want %q", got, gatewaySA)
	}
	gw := cs.one(t, "api-gateway", "gateways", "create", gateway)
	for flag, want := range map[string]string{"api": api, "api-config": id, "location": location, "project": project} {
		if got := must(gw.flag(flag)); got != want {
			t.Errorf("gateways create --%s=%q, want %q", flag, got, want)
		}
	}
	if len(cs.find("api-gateway", "gateways", "update")) != 0 {
		t.Errorf("a new gateway was also updated:\n%s", cs)
	}
	// The gateway SA is an identity only: no role anywhere.
	for _, c := range cs {
		if c.has("add-iam-policy-binding") && must(c.flag("member")) == "serviceAccount:"+gatewaySA {
			t.Errorf("the gateway SA was granted a role: %q", c)
		}
	}
}

// checkSpec checks gateway.sh's OpenAPI 2.0 document: one backend, the
// service at audience, called with audience as its tokens' aud; only the
// user-facing routes (a catch-all would hand anonymous callers the gateway's
// service identity on the service-only routes); no gateway-side auth.
func checkSpec(t *testing.T, doc []byte, audience string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		t.Fatalf("the spec is not JSON: %v\n%s", err, doc)
	}
	if got, want := slices.Sorted(maps.Keys(top)), []string{"info", "paths", "produces", "schemes", "swagger", "x-google-backend"}; !slices.Equal(got, want) {
		t.Errorf("spec members %q, want %q (no security, no x-google-allow)", got, want)
	}
	var spec struct {
		Swagger string `json:"swagger"`
		Backend struct {
			Address         string `json:"address"`
			JWTAudience     string `json:"jwt_audience"`
			PathTranslation string `json:"path_translation"`
		} `json:"x-google-backend"`
		Paths map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		t.Fatalf("spec: %v\n%s", err, doc)
	}
	if spec.Swagger != "2.0" {
		t.Errorf("swagger %q, want 2.0", spec.Swagger)
	}
	b := spec.Backend
	if b.Address != audience || b.JWTAudience != audience || b.PathTranslation != "APPEND_PATH_TO_ADDRESS" {
		t.Errorf("x-google-backend %+v, want address and jwt_audience %q, APPEND_PATH_TO_ADDRESS", b, audience)
	}
	want := map[string][]string{
		"/healthz":    {"get"},
		"/whoami":     {"get", "options"},
		"/api/events": {"get", "options", "post"},
	}
	ids := map[string]bool{}
	for path, ops := range spec.Paths {
		if got := slices.Sorted(maps.Keys(ops)); !slices.Equal(got, want[path]) {
			t.Errorf("spec path %s has methods %q, want %q", path, got, want[path])
		}
		for method, op := range ops {
			if op.OperationID == "" || ids[op.OperationID] || len(op.Responses) == 0 {
				t.Errorf("%s %s: operationId %q (must be unique) and %d responses", method, path, op.OperationID, len(op.Responses))
			}
			ids[op.OperationID] = true
		}
	}
	if len(spec.Paths) != len(want) {
		t.Errorf("spec paths %q, want exactly %q", slices.Sorted(maps.Keys(spec.Paths)), slices.Sorted(maps.Keys(want)))
	}
}

// printedSpec returns the file and the document of the here-document a
// gateway.sh dry run prints.
func printedSpec(t *testing.T, stdout string) (string, []byte) {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	for i, line := range lines {
		rest, ok := strings.CutPrefix(line, "cat >")
		if !ok {
			continue
		}
		file, ok := strings.CutSuffix(rest, " <<'EOF'")
		if !ok {
			t.Fatalf("unexpected line %q", line)
		}
		end := slices.Index(lines[i+1:], "EOF")
		if end < 0 {
			t.Fatalf("unterminated here-document:\n%s", stdout)
		}
		return strings.Join(shellWords(file), ""), []byte(strings.Join(lines[i+1:i+1+end], "\n"))
	}
	t.Fatalf("the dry run printed no spec:\n%s", stdout)
	return "", nil
}

// TestGateway puts API Gateway in front of a deployed service, then
// redeploys the service as gateway.sh says.
func TestGateway(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	gatewaySA := saEmail("pushgate-gateway")
	s.mustRun(t, "", env, "bootstrap.sh")
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img")
	r := s.mustRun(t, "", env, "gateway.sh")
	cs := s.calls(t)
	checkGatewayCalls(t, cs, "pushgate", "pushgate-gateway", "us-central1")

	cfg := cs.one(t, "api-gateway", "api-configs", "create")
	id := cfg.words()[3]
	audience := serviceEnv(cs)["AUTH_GOOGLE_AUDIENCES"]
	if audience != fakeURL {
		t.Fatalf("AUTH_GOOGLE_AUDIENCES=%q, want %q", audience, fakeURL)
	}
	checkSpec(t, []byte(readFile(t, s.state+"/api-gateway+api-configs+"+id+"+.spec")), audience)
	if dir := filepath.Dir(must(cfg.flag("openapi-spec"))); dir == "." || fileExists(dir) {
		t.Errorf("the temporary spec directory %q is left behind", dir)
	}

	for _, want := range []string{
		"gateway URL: https://" + fakeGatewayHost,
		"--gateway-service-accounts=" + gatewaySA,
		`curl -H "Authorization: Bearer $USER_TOKEN" https://` + fakeGatewayHost + "/whoami",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("gateway.sh does not print %q:\n%s", want, r.stderr)
		}
	}

	// Redeployed as told, the service trusts the gateway; a deploy without
	// the flag removes it again (each deploy sets the whole environment).
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img", "--gateway-service-accounts="+gatewaySA)
	got := serviceEnv(s.calls(t))
	if got["AUTH_GATEWAY_SERVICE_ACCOUNTS"] != gatewaySA || got["AUTH_GOOGLE_AUDIENCES"] != audience {
		t.Errorf("after the redeploy: AUTH_GATEWAY_SERVICE_ACCOUNTS=%q AUTH_GOOGLE_AUDIENCES=%q, want %q and %q",
			got["AUTH_GATEWAY_SERVICE_ACCOUNTS"], got["AUTH_GOOGLE_AUDIENCES"], gatewaySA, audience)
	}
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img")
	if v, ok := serviceEnv(s.calls(t))["AUTH_GATEWAY_SERVICE_ACCOUNTS"]; ok {
		t.Errorf("a deploy without --gateway-service-accounts kept AUTH_GATEWAY_SERVICE_ACCOUNTS=%q", v)
	}

	// A gateway SA of another project is accepted once its tokens are.
	other := "gw@other-proj.iam.gserviceaccount.com"
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img",
		"--gateway-service-accounts="+gatewaySA+","+other, "--allowed-emails="+other)
	if got := serviceEnv(s.calls(t))["AUTH_GATEWAY_SERVICE_ACCOUNTS"]; got != gatewaySA+","+other {
		t.Errorf("AUTH_GATEWAY_SERVICE_ACCOUNTS=%q, want both", got)
	}
}

// TestGatewayRerun: an unchanged spec creates and updates nothing; a changed
// one (another URL) gets a new config, which the gateway is pointed at.
func TestGatewayRerun(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	specOut := filepath.Join(s.dir, "spec.json")
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img")
	before := len(s.calls(t))
	s.mustRun(t, "", env, "gateway.sh", "--spec-out="+specOut)
	first := s.calls(t)[before:]
	checkGatewayCalls(t, first, "pushgate", "pushgate-gateway", "us-central1")
	id := first.one(t, "api-gateway", "api-configs", "create").words()[3]
	if got, want := readFile(t, specOut), readFile(t, s.state+"/api-gateway+api-configs+"+id+"+.spec"); got != want {
		t.Errorf("--spec-out holds\n%s\nbut the config was made from\n%s", got, want)
	}
	if got := must(first.one(t, "api-gateway", "api-configs", "create").flag("openapi-spec")); got != specOut {
		t.Errorf("--openapi-spec=%q, want the --spec-out file %q", got, specOut)
	}

	round := func(args ...string) (calls, result) {
		t.Helper()
		n := len(s.calls(t))
		r := s.mustRun(t, "", env, "gateway.sh", args...)
		return s.calls(t)[n:], r
	}
	noChange := func(cs calls, r result) {
		t.Helper()
		for _, c := range cs {
			if c.has("create") || c.has("update") {
				t.Errorf("a re-run with an unchanged spec changed something: gcloud %q", c)
			}
		}
		if !strings.Contains(r.stderr, "already serves") {
			t.Errorf("re-run does not say the gateway already serves the config:\n%s", r.stderr)
		}
	}
	noChange(round())

	const url = "https://pushgate.example.com"
	cs, _ := round("--url=" + url)
	cfg := cs.one(t, "api-gateway", "api-configs", "create")
	newID := cfg.words()[3]
	if newID == id {
		t.Errorf("a changed spec reused the config ID %s", id)
	}
	checkSpec(t, []byte(readFile(t, s.state+"/api-gateway+api-configs+"+newID+"+.spec")), url)
	upd := cs.one(t, "api-gateway", "gateways", "update", "pushgate-gateway")
	if got := must(upd.flag("api-config")); got != newID {
		t.Errorf("gateways update --api-config=%q, want %q", got, newID)
	}
	for _, c := range cs.find("api-gateway") {
		if c.has("create") && !c.is("api-gateway", "api-configs", "create") {
			t.Errorf("a changed spec created more than a config: gcloud %q", c)
		}
	}
	noChange(round("--url=" + url))
}

// TestGatewayDryRun: the flags reach every command, --spec-out is written
// even in a dry run (it is what a reviewer reads), and gcloud is not called.
func TestGatewayDryRun(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	const url = "https://api.example.com"
	specOut := filepath.Join(s.dir, "reviewed spec.json")
	env := []string{"PROJECT_ID=" + project, "GATEWAY_SA_NAME=edge-gw"}
	r := s.mustRun(t, "", env, "gateway.sh", "--dry-run", "--url="+url, "--location", "europe-west1",
		"--api=orders", "--gateway=orders-edge", "--spec-out="+specOut)
	cs := printedCalls(r.stdout)
	if len(s.calls(t)) != 0 {
		t.Error("a dry run called gcloud")
	}
	cs.one(t, "iam", "service-accounts", "create", "edge-gw")
	cs.one(t, "api-gateway", "apis", "create", "orders")
	cfg := cs.one(t, "api-gateway", "api-configs", "create")
	if got, want := must(cfg.flag("backend-auth-service-account")), saEmail("edge-gw"); got != want {
		t.Errorf("--backend-auth-service-account=%q, want %q", got, want)
	}
	gw := cs.one(t, "api-gateway", "gateways", "create", "orders-edge")
	if must(gw.flag("location")) != "europe-west1" || must(gw.flag("api")) != "orders" {
		t.Errorf("gateways create: %q", gw)
	}
	for _, c := range cs.find("api-gateway", "gateways") {
		if must(c.flag("location")) != "europe-west1" {
			t.Errorf("gateway command outside --location: %q", c)
		}
	}
	file, doc := printedSpec(t, r.stdout)
	if file != specOut || must(cfg.flag("openapi-spec")) != specOut {
		t.Errorf("spec printed for %q, config reads %q, want %q", file, must(cfg.flag("openapi-spec")), specOut)
	}
	checkSpec(t, doc, url)
	if got := readFile(t, specOut); got != string(doc)+"\n" {
		t.Errorf("--spec-out holds\n%s\nthe dry run printed\n%s", got, doc)
	}
	if len(cs.find("projects", "describe")) != 0 || len(cs.find("run", "services", "describe")) != 0 {
		t.Error("--url was given, yet the service was looked up")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDryRunWithURL: --url overrides status.url for every script alike.
func TestDryRunWithURL(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	const url = "https://pushgate-custom.example.com"
	env := []string{"PROJECT_ID=" + project, "PROJECT_NUMBER=42"}
	dep := printedCalls(s.mustRun(t, "", env, "deploy.sh", "--dry-run", "--via=source", "--url="+url+"/").stdout)
	sub := printedCalls(s.mustRun(t, "", env, "pubsub.sh", "--dry-run", "--url", url).stdout)
	job := printedCalls(s.mustRun(t, "", env, "scheduler.sh", "--dry-run", "--url="+url, "--job=nightly").stdout)
	if got := serviceEnv(dep)["AUTH_GOOGLE_AUDIENCES"]; got != url {
		t.Errorf("AUTH_GOOGLE_AUDIENCES=%q, want %q", got, url)
	}
	if got := must(sub.one(t, "pubsub", "subscriptions", "create", "pushgate-push").flag("push-auth-token-audience")); got != url {
		t.Errorf("push audience %q, want %q", got, url)
	}
	j := job.one(t, "scheduler", "jobs", "create", "http", "nightly")
	if got := must(j.flag("oidc-token-audience")); got != url {
		t.Errorf("scheduler audience %q, want %q", got, url)
	}
	if got := must(j.flag("uri")); got != url+"/scheduler/nightly" {
		t.Errorf("scheduler uri %q", got)
	}
	if len(dep.find("projects", "describe")) != 0 {
		t.Error("PROJECT_NUMBER was given, yet the project was described")
	}
	if len(s.calls(t)) != 0 {
		t.Error("a dry run called gcloud")
	}
}

// TestRerunIsIdempotent runs the sequence twice: the second time nothing is
// created again, the subscription and job are updated, and the deploy uses
// the known URL at once.
func TestRerunIsIdempotent(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	round := func() {
		s.mustRun(t, "", env, "bootstrap.sh")
		s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img")
		s.mustRun(t, "", env, "pubsub.sh")
		s.mustRun(t, "", env, "scheduler.sh")
		s.mustRun(t, "", env, "memorystore.sh")
	}
	round()
	first := len(s.calls(t))
	round()
	second := s.calls(t)[first:]
	for _, c := range second {
		if c.has("create") && !c.is("beta", "services", "identity", "create") {
			t.Errorf("second run created again: gcloud %q", c)
		}
	}
	second.one(t, "pubsub", "subscriptions", "update", "pushgate-push")
	second.one(t, "scheduler", "jobs", "update", "http", "heartbeat")
	dep := second.one(t, "run", "deploy", "pushgate")
	if got := envVars(must(dep.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]; got != fakeURL {
		t.Errorf("redeploy audience %q, want the known URL %q", got, fakeURL)
	}
	for _, c := range second.find("run", "services", "update") {
		if _, ok := envVars(must(c.flag("update-env-vars")))["AUTH_GOOGLE_AUDIENCES"]; ok {
			t.Errorf("redeploy corrected the audience again: %q", c)
		}
	}
	// Google-only deploy: no half-configured Clerk provider left behind.
	if got := must(dep.flag("remove-secrets")); got != "CLERK_SECRET_KEY" {
		t.Errorf("Google-only deploy: --remove-secrets=%q, want CLERK_SECRET_KEY", got)
	}
	if env := serviceEnv(s.calls(t)); env["DEDUP_REDIS_URL"] == "" {
		t.Error("a redeploy dropped DEDUP_REDIS_URL set by memorystore.sh")
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, script := range append(slices.Clone(deployScripts), "build.sh") {
		t.Run(script, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			for _, flag := range []string{"--help", "-h"} {
				r := s.mustRun(t, "", nil, script, flag)
				if !strings.HasPrefix(r.stdout, "Usage: "+script) {
					t.Errorf("%s %s: got %q, want a usage text", script, flag, r.stdout)
				}
				want := "--dry-run"
				if script == "build.sh" {
					want = "--print"
				}
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s %s does not document %s", script, flag, want)
				}
			}
			if len(s.calls(t)) != 0 {
				t.Error("--help called gcloud")
			}
		})
	}
}

func TestRejects(t *testing.T) {
	t.Parallel()
	proj := []string{"PROJECT_ID=" + project}
	tests := []struct {
		name    string
		env     []string
		stdin   string
		script  string
		args    []string
		setup   func(t *testing.T, s *sandbox)
		wantErr string
	}{
		{"no project", nil, "", "bootstrap.sh", nil, nil, "no project"},
		{"unknown flag", proj, "", "pubsub.sh", []string{"--bogus"}, nil, "unknown argument"},
		{"flag without value", proj, "", "scheduler.sh", []string{"--job"}, nil, "needs a value"},
		{"bad project id", []string{"PROJECT_ID=Bad Project"}, "", "bootstrap.sh", nil, nil, "not a valid name"},
		{"url with a path", proj, "", "pubsub.sh", []string{"--url=https://x.run.app/pubsub/push"}, nil, "no path"},
		{"plain http url", proj, "", "scheduler.sh", []string{"--url=http://x.run.app"}, nil, "--url must be https"},
		{"bad job name", proj, "", "scheduler.sh", []string{"--url=https://x.run.app", "--job=a/b"}, nil, "job name"},
		{"not deployed yet", proj, "", "pubsub.sh", nil, nil, "not deployed"},
		{"image mode without image", proj, "", "deploy.sh", []string{"--via=image"}, nil, "needs --image"},
		{"unknown mode", proj, "", "deploy.sh", []string{"--via=ftp"}, nil, "--via must be"},
		{"secret key as publishable key", proj, "", "deploy.sh", []string{"--clerk-publishable-key=" + secretValue}, nil, "SECRET key"},
		{"secret key in origins", proj, "", "deploy.sh", []string{"--cors-allowed-origins=" + secretValue}, nil, "SECRET key"},
		{"clerk without secret value", proj, "", "deploy.sh", []string{"--via=image", "--image=img", "--clerk-publishable-key=" + publishable}, nil, "has no value yet"},
		{"bad issuer", proj, "", "deploy.sh", []string{"--clerk-issuer=clerk.example.com"}, nil, "CLERK_ISSUER must be"},
		{"empty key", proj, "", "clerk-secret.sh", nil, nil, "no key"},
		{"not a clerk key", proj, "hunter2", "clerk-secret.sh", nil, nil, "does not look like"},
		{"too few delivery attempts", append([]string{"MAX_DELIVERY_ATTEMPTS=2"}, proj...), "", "pubsub.sh", []string{"--url=https://x.run.app"}, nil, "MAX_DELIVERY_ATTEMPTS"},
		{"gateway: unknown flag", proj, "", "gateway.sh", []string{"--bogus"}, nil, "unknown argument"},
		{"gateway: not deployed yet", proj, "", "gateway.sh", nil, nil, "not deployed"},
		{"gateway: bad location", proj, "", "gateway.sh", []string{"--url=https://x.run.app", "--location=US"}, nil, "--location must be"},
		{"gateway: bad API ID", proj, "", "gateway.sh", []string{"--url=https://x.run.app", "--api=My_API"}, nil, "API ID"},
		{"gateway: API ID too long", proj, "", "gateway.sh", []string{"--url=https://x.run.app", "--api=" + strings.Repeat("a", 55)}, nil, "API ID"},
		{"gateway: bad gateway ID", proj, "", "gateway.sh", []string{"--url=https://x.run.app", "--gateway=gw-"}, nil, "gateway ID"},
		{"gateway: bad SA name", append([]string{"GATEWAY_SA_NAME=Edge GW"}, proj...), "", "gateway.sh", []string{"--url=https://x.run.app"}, nil, "not a valid name"},
		{"gateway: spec-out without value", proj, "", "gateway.sh", []string{"--spec-out"}, nil, "needs a value"},
		{"gateway: spec-out takes a flag", proj, "", "gateway.sh", []string{"--url=https://x.run.app", "--spec-out", "--dry-run"}, nil, "needs a file name"},
		{"gateway: backend with a port", proj, "", "gateway.sh", []string{"--url=https://x.run.app:8443"}, nil, "must be https://host"},
		{"gateway SA not an email", proj, "", "deploy.sh", []string{"--gateway-service-accounts=pushgate-gateway"}, nil, "comma-separated emails"},
		{"gateway SA of another project", proj, "", "deploy.sh", []string{"--gateway-service-accounts=gw@other-proj.iam.gserviceaccount.com"}, nil, "would refuse its tokens"},
		{"gateway SAs with an empty entry", proj, "", "deploy.sh", []string{"--gateway-service-accounts=," + saEmail("pushgate-gateway")}, nil, "comma-separated emails"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			r := s.run(t, tt.stdin, tt.env, tt.script, tt.args...)
			if r.code == 0 {
				t.Fatalf("%s %q: got exit 0, want failure\nstdout:\n%s", tt.script, tt.args, r.stdout)
			}
			if !strings.Contains(r.stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantErr)
			}
			for _, c := range s.calls(t) {
				if !c.has("describe") {
					t.Errorf("a rejected run changed something: gcloud %q", c)
				}
			}
			if strings.Contains(r.stderr+r.stdout, secretValue) {
				t.Error("the secret key was echoed")
			}
		})
	}
}
