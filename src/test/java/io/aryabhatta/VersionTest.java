package io.aryabhatta;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code aryabhatta version} and the start log name the pom's version, from classes as from the jar. */
class VersionTest {
  @Test
  void the_version_is_the_poms() throws Exception {
    Matcher pom = Pattern.compile("<artifactId>aryabhatta</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("pom.xml")));
    assertThat(pom.find()).isTrue();

    assertThat(Main.version()).isEqualTo(pom.group(1)).isNotEqualTo("dev");
  }
}
