package io.aryabhatta.ids;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/** UUIDv7 identifiers: time-ordered, so a list ordered by id is ordered by creation. */
public final class Ids {
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public Ids(Clock clock) {
    this.clock = clock;
  }

  public String next() {
    long millis = clock.millis();
    byte[] rand = new byte[10];
    random.nextBytes(rand);
    long msb = (millis << 16) | 0x7000L | ((rand[0] & 0x0FL) << 8) | (rand[1] & 0xFFL);
    long lsb = 0x8000000000000000L | ((rand[2] & 0x3FL) << 56);
    for (int i = 3; i < 10; i++) {
      lsb |= (rand[i] & 0xFFL) << (8 * (9 - i));
    }
    return new UUID(msb, lsb).toString();
  }
}
