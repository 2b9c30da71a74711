package io.edgesync.agent.internal.atrest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.edgesync.agent.StorageKeyException;
import io.edgesync.agent.StorageKeyException.Reason;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.SplittableRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import org.junit.jupiter.api.Test;

/**
 * The sealed format: header, random nonce, AES-256-GCM over the value, place as associated data.
 */
class StorageCipherTest {
  private final StorageCipher cipher = StorageKeys.parse("3:" + newKey(), "test keys");

  @Test
  void sealedValuesOfEverySizeAroundTheSlice_openToThemselves_andAreOneGcmCiphertext()
      throws Exception {
    SplittableRandom random = new SplittableRandom(7);
    int slice = StorageCipher.SEAL_SLICE_BYTES;
    for (int size : new int[] {0, 1, 150, slice - 1, slice, slice + 1, 3 * slice + 17, 700_000}) {
      byte[] plain = new byte[size];
      random.nextBytes(plain);
      byte[] sealed = cipher.seal("chunk|s|1|2", plain);
      assertThat(sealed).hasSize(size + StorageCipher.OVERHEAD_BYTES);
      assertThat(sealed[0]).isEqualTo((byte) 0xE5);
      assertThat(sealed[2]).as("key id").isEqualTo((byte) 3);
      assertThat(cipher.open("chunk|s|1|2", sealed)).as("size " + size).isEqualTo(plain);
      // The slices make one ordinary GCM ciphertext: a single doFinal opens it too.
      Cipher plainGcm = Cipher.getInstance("AES/GCM/NoPadding");
      plainGcm.init(
          Cipher.DECRYPT_MODE,
          cipher.keys().get(3),
          new GCMParameterSpec(128, sealed, StorageCipher.HEADER_BYTES, StorageCipher.NONCE_BYTES));
      plainGcm.updateAAD(sealed, 0, StorageCipher.HEADER_BYTES);
      plainGcm.updateAAD("chunk|s|1|2".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      int offset = StorageCipher.HEADER_BYTES + StorageCipher.NONCE_BYTES;
      assertThat(plainGcm.doFinal(sealed, offset, sealed.length - offset)).isEqualTo(plain);
    }
  }

  @Test
  void theSameValueSealedTwice_differs_andOpensOnlyAtItsPlace() {
    byte[] plain = "same".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] a = cipher.seal("chunk|s|1|1", plain);
    byte[] b = cipher.seal("chunk|s|1|1", plain);
    assertThat(a).isNotEqualTo(b);
    StorageKeyException moved =
        catchThrowableOfType(StorageKeyException.class, () -> cipher.open("chunk|s|2|2", a));
    assertThat(moved.reason()).isEqualTo(Reason.TAMPERED);
    byte[] otherId = a.clone();
    otherId[2] = 4; // an id the ring lacks
    assertThat(
            catchThrowableOfType(
                    StorageKeyException.class, () -> cipher.open("chunk|s|1|1", otherId))
                .reason())
        .isEqualTo(Reason.KEY_MISSING);
  }

  private static String newKey() {
    byte[] k = new byte[32];
    new SecureRandom().nextBytes(k);
    return Base64.getEncoder().encodeToString(k);
  }
}
