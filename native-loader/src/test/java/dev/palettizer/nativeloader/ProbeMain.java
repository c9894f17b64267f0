package dev.palettizer.nativeloader;

/** Prints one probe's answer as "available: detail" or "unavailable: detail"; run by {@link ForkedJvm}. */
public final class ProbeMain {

    private ProbeMain() {
    }

    public static void main(String[] args) {
        Availability answer = switch (args[0]) {
            case "jcuda" -> JcudaProbe.probe();
            case "jcublas" -> JcublasProbe.probe();
            case "lwjgl" -> LwjglOpenClProbe.probe();
            default -> throw new IllegalArgumentException("unknown probe " + args[0]);
        };
        System.out.println((answer.available() ? "available: " : "unavailable: ") + answer.detail());
    }
}
