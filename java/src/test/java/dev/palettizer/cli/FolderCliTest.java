package dev.palettizer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.palettizer.io.CheckpointFixture;
import dev.palettizer.io.ShardIndex;
import dev.palettizer.spec.SpecException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15 on the command line: folders in and out, the shard cap flag, and a bad folder's one-line error. */
class FolderCliTest {
    @TempDir
    Path dir;

    @Test
    void palettizeDecompressAndInspectAFolder() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 4);
        Path out = dir.resolve("pal");
        CliTest.Run run = CliTest.run("palettize", in.resolve(ShardIndex.FILE_NAME).toString(), out.toString(),
                "--bits", "3", "--granularity", "per-grouped-channel", "--group-size", "16", "--backend", "java",
                "--max-shard-size", "10KB");
        assertEquals(0, run.exit(), run.err());
        assertTrue(run.out().contains("model.layers.1.mlp.down_proj.weight"), run.out());
        assertTrue(ShardIndex.read(out.resolve(ShardIndex.FILE_NAME)).shards().size() > 2);

        CliTest.Run inspect = CliTest.run("inspect", out.toString());
        assertEquals(0, inspect.exit(), inspect.err());
        assertTrue(inspect.out().contains("# model-00001-of-"), inspect.out());
        assertTrue(inspect.out().contains("3-bit group 16 axis 0"), inspect.out());

        Path dense = dir.resolve("dense");
        CliTest.Run decompress = CliTest.run("decompress", out.toString(), dense.toString(), "--backend", "java");
        assertEquals(0, decompress.exit(), decompress.err());
        assertEquals(1, ShardIndex.read(dense.resolve(ShardIndex.FILE_NAME)).shards().size(), "5 GB default cap");
        assertEquals(Files.readString(in.resolve("config.json")), Files.readString(dense.resolve("config.json")));
    }

    @Test
    void aBadFolderFailsInOneLineAndTheCapNeedsAFolder() throws Exception {
        Path in = CheckpointFixture.write(dir.resolve("in"), 4);
        Files.copy(in.resolve(CheckpointFixture.shardName(0)), in.resolve("stray.safetensors"));
        CliTest.Run run = CliTest.run("palettize", in.toString(), dir.resolve("out").toString(), "--backend", "java");
        assertEquals(1, run.exit());
        assertTrue(run.err().contains("stray.safetensors: is not in the index"), run.err());
        assertEquals(1, run.err().strip().lines().filter(l -> l.startsWith("palettizer: error")).count(), run.err());
        assertFalse(Files.exists(dir.resolve("out")));

        Path single = in.resolve(CheckpointFixture.shardName(0));
        CliTest.Run file = CliTest.run("palettize", single.toString(), dir.resolve("x.safetensors").toString(),
                "--backend", "java", "--max-shard-size", "1GB");
        assertTrue(file.exit() != 0 && file.err().contains("--max-shard-size applies to checkpoint folders"), file.err());
    }

    @Test
    void shardSizes() {
        assertEquals(5_000_000_000L, ShardOptions.parse("5GB"));
        assertEquals(2L << 30, ShardOptions.parse("2GiB"));
        assertEquals(500_000_000L, ShardOptions.parse("500 mb"));
        assertEquals(123L, ShardOptions.parse("123"));
        assertThrows(SpecException.class, () -> ShardOptions.parse("5 gigs"));
        assertThrows(SpecException.class, () -> ShardOptions.parse("0"));
        assertThrows(SpecException.class, () -> ShardOptions.parse("99999999999TB"));
    }
}
