package dev.palettizer.cli;

import java.util.function.Consumer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.IGetter;
import picocli.CommandLine.Model.ISetter;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The commands' picocli specs, built in code: picocli's annotations would be read at run time, and each
 * annotation type costs a dynamic proxy class that the AOT cache cannot hold (about 0.1 s of a cold run: the
 * proxies' generation, interpreted, and the method handles they spin). Each option is defined once, next to the
 * field it sets; param labels are written as picocli derives them from field names ({@code <fieldName>}).
 */
final class CliSpecs {
    private CliSpecs() {}

    /**
     * A command with the standard {@code -h/--help} and {@code -V/--version} options, worded as picocli's
     * {@code mixinStandardHelpOptions} (which would read them from annotations).
     */
    static CommandSpec command(Object callable, String name, String... description) {
        CommandSpec help = CommandSpec.create();
        help.addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                .descriptionKey("mixinStandardHelpOptions.help").description("Show this help message and exit.").build());
        help.addOption(OptionSpec.builder("-V", "--version").versionHelp(true)
                .descriptionKey("mixinStandardHelpOptions.version").description("Print version information and exit.")
                .build());
        CommandSpec spec = CommandSpec.wrapWithoutInspection(callable).name(name);
        spec.usageMessage().description(description);
        return spec.addMixin("mixinStandardHelpOptions", help);
    }

    /** An option of {@code type} whose value (converted, or its default) goes to {@code field}. */
    static <T> OptionSpec.Builder option(Class<T> type, Consumer<? super T> field, String... names) {
        Binding<T> binding = new Binding<>(field);
        return OptionSpec.builder(names).type(type).getter(binding).setter(binding);
    }

    /** A required positional parameter at {@code index} (arity 1, as picocli makes an annotated one). */
    static <T> PositionalParamSpec.Builder positional(Class<T> type, Consumer<? super T> field, String index) {
        Binding<T> binding = new Binding<>(field);
        return PositionalParamSpec.builder().index(index).arity("1").required(true).type(type).getter(binding)
                .setter(binding);
    }

    /** Hands each value picocli sets to the field; picocli reads the last one back from here, never by reflection. */
    private static final class Binding<T> implements IGetter, ISetter {
        private final Consumer<? super T> field;
        private Object value;

        Binding(Consumer<? super T> field) {
            this.field = field;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <V> V get() {
            return (V) value;
        }

        @Override
        @SuppressWarnings("unchecked")
        public <V> V set(V newValue) {
            V old = (V) value;
            value = newValue;
            // null is picocli's reset before parsing (no initial value given): the field keeps its own initial value.
            if (newValue != null) {
                field.accept((T) newValue);
            }
            return old;
        }
    }
}
