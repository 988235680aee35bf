package scripts

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// wantBuild is the one build command (scripts/build.sh) the Dockerfile and
// CI share.
var wantBuild = []string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/out/pushgate", "."}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfileBuildsWithBuildScript keeps the image and CI on one build
// command: the Dockerfile runs build.sh, and build.sh runs exactly wantBuild.
func TestDockerfileBuildsWithBuildScript(t *testing.T) {
	t.Parallel()
	lines := map[string]bool{}
	var goBuilds []string
	for line := range strings.SplitSeq(readFile(t, "../Dockerfile"), "\n") {
		line = strings.TrimSpace(line)
		lines[line] = true
		if !strings.HasPrefix(line, "#") && strings.Contains(line, "go build") {
			goBuilds = append(goBuilds, line)
		}
	}
	for _, want := range []string{
		"FROM golang:1.26 AS build",
		"RUN bash scripts/build.sh /out/pushgate",
		"FROM gcr.io/distroless/static-debian12:nonroot",
		"COPY --from=build /out/pushgate /pushgate",
		"USER nonroot:nonroot",
		`ENTRYPOINT ["/pushgate"]`,
	} {
		if !lines[want] {
			t.Errorf("Dockerfile lacks the line %q", want)
		}
	}
	if len(goBuilds) > 0 {
		t.Errorf("Dockerfile runs go build itself instead of scripts/build.sh: %q", goBuilds)
	}

	s := newSandbox(t)
	printed := shellWords(strings.TrimSpace(s.mustRun(t, "", nil, "build.sh", "--print", "/out/pushgate").stdout))
	if want := append([]string{"CGO_ENABLED=0"}, wantBuild...); !slices.Equal(printed, want) {
		t.Errorf("build.sh --print:\n got %q\nwant %q", printed, want)
	}

	// Run it with a fake go: the argv, CGO_ENABLED and directory it uses.
	s.mustRun(t, "", nil, "build.sh", "/out/pushgate")
	goCalls := readCalls(t, s.goLog)
	if len(goCalls) != 1 {
		t.Fatalf("build.sh ran go %d times, want once", len(goCalls))
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root = strings.TrimSuffix(root, "/scripts")
	want := append([]string{"CGO_ENABLED=0", "PWD=" + root}, wantBuild[1:]...) // argv without "go"
	if got := []string(goCalls[0]); !slices.Equal(got, want) {
		t.Errorf("build.sh ran:\n got %q\nwant %q", got, want)
	}
}

// TestCIUsesBuildScript: CI must build with the same script as the image.
func TestCIUsesBuildScript(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../.ci/run")
	if err == nil && strings.Contains(string(b), "scripts/build.sh") {
		return
	}
	msg := ".ci/run does not run scripts/build.sh; add e.g.  step \"build\"; scripts/build.sh \"$(mktemp -d)/pushgate\""
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	t.Parallel()
	ignored := map[string]bool{}
	for line := range strings.SplitSeq(readFile(t, "../.dockerignore"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			ignored[line] = true
		}
	}
	for _, need := range []string{"scripts", "scripts/build.sh", "go.mod", "go.sum", "main.go", "*.go", "**/*.go", "."} {
		if ignored[need] {
			t.Errorf(".dockerignore drops %q, which the image build needs", need)
		}
	}
	for _, want := range []string{".git", ".env"} {
		if !ignored[want] {
			t.Errorf(".dockerignore should drop %q", want)
		}
	}
}

// TestCloudBuild checks cloudbuild.yaml against what deploy.sh submits.
func TestCloudBuild(t *testing.T) {
	t.Parallel()
	yaml := readFile(t, "../cloudbuild.yaml")

	// deploy.sh (default --via=cloudbuild) submits the build as the build SA
	// with substitutions: each one must be declared and used in the file,
	// or Cloud Build refuses the build.
	s := newSandbox(t)
	env := []string{"PROJECT_ID=" + project}
	s.mustRun(t, "", env, "bootstrap.sh")
	s.mustRun(t, secretValue, env, "clerk-secret.sh")
	gatewaySA := saEmail("pushgate-gateway")
	s.mustRun(t, "", env, "deploy.sh", "--clerk-publishable-key="+publishable, "--cors-allowed-origins="+origins,
		"--gateway-service-accounts="+gatewaySA)
	cs := s.calls(t)
	submit := cs.one(t, "builds", "submit")
	if got := must(submit.flag("config")); !strings.HasSuffix(got, "/cloudbuild.yaml") {
		t.Errorf("--config=%q, want cloudbuild.yaml", got)
	}
	wantSA := "projects/" + project + "/serviceAccounts/" + saEmail("pushgate-build")
	if got := must(submit.flag("service-account")); got != wantSA {
		t.Errorf("--service-account=%q, want %q", got, wantSA)
	}
	cs.one(t, "iam", "service-accounts", "create", "pushgate-build")
	subs := envVars(must(submit.flag("substitutions")))
	if subs["_CORS_ALLOWED_ORIGINS"] != origins || subs["_CLERK_PUBLISHABLE_KEY"] != publishable || subs["_SERVICE"] != "pushgate" ||
		subs["_AUTH_GATEWAY_SERVICE_ACCOUNTS"] != gatewaySA {
		t.Errorf("substitutions lost values: %v", subs)
	}
	passed := slices.Sorted(maps.Keys(subs))
	declared := matches(t, yaml, `(?m)^  (_[A-Z_]+):`)
	used := matches(t, yaml, `\$\{(_[A-Z_]+)\}`)
	if !slices.Equal(passed, declared) || !slices.Equal(passed, used) {
		t.Errorf("substitutions disagree:\n passed by deploy.sh %q\n declared in yaml    %q\n used in yaml        %q", passed, declared, used)
	}
	// The deploy step hands each one to deploy.sh under its contract name.
	for _, k := range passed {
		if k == "_REGION" || k == "_SERVICE" || k == "_REPOSITORY" {
			continue
		}
		if line := "- " + strings.TrimPrefix(k, "_") + "=${" + k + "}"; !strings.Contains(yaml, line) {
			t.Errorf("deploy step does not pass %s as %q", k, line)
		}
	}

	var code strings.Builder // the file without comments
	for line := range strings.SplitSeq(yaml, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			code.WriteString(line + "\n")
		}
	}
	images := regexp.MustCompile(`[A-Za-z0-9${}_.-]*docker\.pkg\.dev/[^\s"\]]+`).FindAllString(code.String(), -1)
	if len(images) < 4 {
		t.Errorf("got %d image references, want build, push, deploy and images:", len(images))
	}
	for _, img := range images {
		if img != "${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_REPOSITORY}/${_SERVICE}:${BUILD_ID}" {
			t.Errorf("image %q differs from the others", img)
		}
	}
	for _, want := range []string{
		"name: golang:1.26", "args: [vet, ./...]", "args: [test, ./...]",
		"args: [scripts/deploy.sh, --via=image,", "logging: CLOUD_LOGGING_ONLY", "\nimages:\n",
		"- PROJECT_NUMBER=${PROJECT_NUMBER}",
	} {
		if !strings.Contains(yaml, want) {
			t.Errorf("cloudbuild.yaml lacks %q", want)
		}
	}
	if regexp.MustCompile(`sk_(test|live)_`).MatchString(yaml) {
		t.Error("cloudbuild.yaml holds a Clerk secret key")
	}
}

// TestCloudBuildDeployStep runs deploy.sh the way cloudbuild.yaml's deploy
// step does: with PROJECT_NUMBER given and no secret check, so the build SA
// needs neither resourcemanager nor Secret Manager access.
func TestCloudBuildDeployStep(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := []string{
		"PROJECT_ID=" + project, "PROJECT_NUMBER=" + fakeProjectNumber, "REGION=us-central1", "SERVICE=pushgate",
		"REPOSITORY=pushgate", "RUNTIME_SA_NAME=pushgate-run", "TOPIC=pushgate-events", "CLERK_SECRET_NAME=clerk-secret-key",
		"SERVICE_URL=", "CLERK_PUBLISHABLE_KEY=" + publishable, "CLERK_ISSUER=", "CLERK_AUTHORIZED_PARTIES=",
		"CORS_ALLOWED_ORIGINS=" + origins, "AUTH_GOOGLE_ALLOWED_EMAILS=",
		"AUTH_GATEWAY_SERVICE_ACCOUNTS=" + saEmail("pushgate-gateway"),
	}
	s.mustRun(t, "", env, "deploy.sh", "--via=image", "--image=img", "--skip-secret-check")
	cs := s.calls(t)
	for _, c := range cs {
		if c.is("projects") || c.is("secrets") {
			t.Errorf("the build SA may not run gcloud %q", c)
		}
	}
	dep := cs.one(t, "run", "deploy", "pushgate")
	if !dep.has("--no-invoker-iam-check") || must(dep.flag("set-secrets")) != "CLERK_SECRET_KEY=clerk-secret-key:latest" {
		t.Errorf("deploy step: %q", dep)
	}
	if got := serviceEnv(cs)["AUTH_GOOGLE_AUDIENCES"]; got != fakeURL {
		t.Errorf("AUTH_GOOGLE_AUDIENCES=%q, want %q", got, fakeURL)
	}
	if got, want := serviceEnv(cs)["AUTH_GATEWAY_SERVICE_ACCOUNTS"], saEmail("pushgate-gateway"); got != want {
		t.Errorf("AUTH_GATEWAY_SERVICE_ACCOUNTS=%q, want %q", got, want)
	}
}

// matches returns the sorted, distinct first groups of re in s.
func matches(t *testing.T, s, re string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
		seen[m[1]] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestShellcheck lints every script. Without shellcheck it skips, except in
// CI (CI=true), where it fails.
func TestShellcheck(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is not installed, and CI=true requires it")
		}
		t.Skip("shellcheck is not installed (apt-get install shellcheck); CI=true makes this a failure")
	}
	scripts, err := filepath.Glob("*.sh")
	if err != nil || len(scripts) < 8 {
		t.Fatalf("found scripts %q (%v), want at least 8", scripts, err)
	}
	out, err := exec.Command(bin, scripts...).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck %s: %v\n%s", strings.Join(scripts, " "), err, out)
	}
}
