#!/usr/bin/env bash
# Builds, starts and tests Aryabhatta with a JDK 21+ found on this machine,
# so nobody has to export JAVA_HOME first.
#
#   ./aryabhatta.sh start [serve|migrate|version]   compile if needed and run the server
#   ./aryabhatta.sh test                             run the whole test suite
#   ./aryabhatta.sh build                            build target/aryabhatta.jar
#   ./aryabhatta.sh bench [--quick]                  run the performance benchmark (BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")"

java_major() { # prints the major version of the JDK at $1, or nothing
  local home=$1 line
  [ -x "$home/bin/java" ] && [ -x "$home/bin/javac" ] || return 0
  if [ -f "$home/release" ]; then
    line=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release")
  else
    line=$("$home/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')
  fi
  echo "$line"
}

find_jdk() {
  local candidates=() best="" best_major=0 home major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for home in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$home" ] && candidates+=("$home")
  done
  for home in "${candidates[@]}"; do
    major=$(java_major "$home")
    if [ -n "$major" ] && [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best=$home best_major=$major
    fi
  done
  if [ -z "$best" ]; then
    echo "aryabhatta: no JDK 21 or newer found (looked at JAVA_HOME, PATH and /usr/lib/jvm); install one, e.g. apt-get install openjdk-21-jdk-headless" >&2
    exit 1
  fi
  echo "$best"
}

export JAVA_HOME=$(find_jdk)
export PATH="$JAVA_HOME/bin:$PATH"
# Maven 3.8's bundled Guava makes JDK 24+ print sun.misc.Unsafe warnings on every build: noise.
if [ "$(java_major "$JAVA_HOME")" -ge 24 ]; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
command -v mvn >/dev/null 2>&1 || { echo "aryabhatta: Maven (mvn) is not installed; apt-get install maven" >&2; exit 1; }

# The start command runs from target/classes and the dependencies in the local Maven repository:
# compiling is much faster than building the shaded jar, so a first start stays quick.
classes_are_stale() {
  [ ! -f target/start.classpath ] && return 0
  [ -n "$(find pom.xml src/main migrations -newer target/start.classpath -print -quit)" ]
}

# A build step before the server starts: silent when it works (Maven 3.8 prints terminal escape
# codes even in batch mode, which would open the server's log), its output without them when not.
quiet_build() {
  local output
  if ! output=$("$@" 2>&1); then
    printf '%s\n' "$output" | sed $'s/\e\\[[0-9;]*m//g' >&2
    return 1
  fi
}

jar_is_stale() {
  [ ! -f target/aryabhatta.jar ] && return 0
  [ -n "$(find pom.xml src/main migrations -newer target/aryabhatta.jar -print -quit)" ]
}

# The JVM's options for the server. The parallel collector by default: on a small machine (2 cores,
# the benchmark's) it cut the overhead per step at 100 concurrent runs by about a fifth against
# G1, the JVM's own choice (BENCHMARKS.md). ARYABHATTA_JAVA_OPTS replaces them, e.g. with -Xmx1g.
read -r -a server_jvm <<< "${ARYABHATTA_JAVA_OPTS:--XX:+UseParallelGC}"

command=${1:-start}
shift || true
case "$command" in
  start)
    if classes_are_stale; then
      quiet_build mvn -q -B compile dependency:build-classpath -DincludeScope=runtime \
        -Dmdep.outputFile=target/start.classpath.tmp
      mv target/start.classpath.tmp target/start.classpath
    fi
    exec java "${server_jvm[@]}" -cp "target/classes:$(cat target/start.classpath)" io.aryabhatta.Main "$@"
    ;;
  build)
    exec mvn -q -B package -DskipTests "$@"
    ;;
  test)
    exec mvn -B verify "$@"
    ;;
  bench)
    # The benchmark lives outside the product: bench/src is compiled against the built jar.
    if jar_is_stale; then mvn -q -B package -DskipTests; fi
    # Its own dependencies (LangChain4j, the framework it compares against) come from bench/pom.xml,
    # never from the product's pom; the product jar goes first on the class path.
    rm -rf target/bench-classes && mkdir -p target/bench-classes target/bench
    if [ ! -f target/bench-classpath.txt ] || [ bench/pom.xml -nt target/bench-classpath.txt ]; then
      mvn -q -B -f bench/pom.xml dependency:build-classpath -Dmdep.outputFile="$PWD/target/bench-classpath.txt"
    fi
    bench_cp="target/aryabhatta.jar:$(cat target/bench-classpath.txt)"
    javac --release 21 -parameters -d target/bench-classes -cp "$bench_cp" $(find bench/src -name '*.java')
    # One JVM holds the server, the fake model and the clients, capped at 512 MiB of heap, with the
    # server's options.
    exec java "${server_jvm[@]}" -Xmx512m ${BENCH_JAVA_OPTS:-} -Dlogback.configurationFile=bench/logback.xml \
      -cp "target/bench-classes:$bench_cp" io.aryabhatta.bench.Bench "$@"
    ;;
  *)
    echo "usage: ./aryabhatta.sh start [serve|migrate|version] | test | build | bench [--quick]" >&2
    exit 2
    ;;
esac
