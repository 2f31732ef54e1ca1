package io.spillway.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateError.ErrorType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import jinjava.javax.el.CompositeELResolver;

/**
 * Jinjava set up like the Jinja2 environment transformers renders chat templates in:
 * {@code trim_blocks} and {@code lstrip_blocks}, the {@code raise_exception} and
 * {@code strftime_now} functions, Python's {@code tojson}, the {@code generation} tag, Python str
 * methods, and failures instead of empty output for unknown filters, tests and functions.
 * One instance serves all templates: Jinjava renders concurrently from its global context.
 */
final class JinjaEnvironment {

    static final JinjaEnvironment INSTANCE = new JinjaEnvironment();

    private final Jinjava jinjava;
    /** Also renders the branches not taken, with calls stubbed out, to find their syntax errors. */
    private final JinjavaConfig validation;

    private JinjaEnvironment() {
        jinjava = new Jinjava(config().build());
        validation = config().withValidationMode(true).build();
        Context globals = jinjava.getGlobalContext();
        TemplateFunctions.all().forEach(globals::registerFunction);
        globals.registerFilter(new PythonJsonFilter());
        globals.registerTag(new GenerationTag());
    }

    private static JinjavaConfig.Builder config() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringResolver());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        return JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                // TemplateSource drops the source's trailing newline, as Jinja2 does; Jinjava would
                // drop one from the output instead.
                .withKeepTrailingNewline(true)
                // Jinjava would otherwise render "{{ ... }}" found in message text as a template.
                .withNestedInterpretationEnabled(false)
                .withElResolver(resolver)
                .withInterperterFactory(StrictContext.INTERPRETERS);
    }

    /**
     * Renders {@code source}.
     *
     * @throws IllegalArgumentException with the template's own message when it calls
     *                                  {@code raise_exception}
     * @throws IllegalStateException    naming {@code origin} and the line when rendering fails otherwise
     */
    String render(TemplateSource source, String origin, Map<String, Object> bindings) {
        RenderResult result = jinjava.renderForResult(source.text(), bindings);
        for (TemplateError error : result.getErrors()) {
            TemplateFunctions.Raised raised = cause(error, TemplateFunctions.Raised.class);
            if (raised != null) {
                throw new IllegalArgumentException(raised.getMessage());
            }
        }
        firstFatal(result.getErrors(), source).ifPresent(message -> {
            throw new IllegalStateException("chat template " + origin + ": " + message);
        });
        return result.getOutput();
    }

    /**
     * The first error, as "line N: message" (or "lines M-N: message"), of a render that also visits
     * the branches it does not take; {@code raise_exception} calls do not count.
     */
    Optional<String> syntaxError(TemplateSource source, Map<String, Object> bindings) {
        List<TemplateError> errors = jinjava.renderForResult(source.text(), bindings, validation).getErrors().stream()
                .filter(error -> cause(error, TemplateFunctions.Raised.class) == null)
                .toList();
        return firstFatal(errors, source);
    }

    private static Optional<String> firstFatal(List<TemplateError> errors, TemplateSource source) {
        return errors.stream()
                .filter(error -> error.getSeverity() == ErrorType.FATAL)
                .findFirst()
                .map(error -> source.originalLines(error.getLineno()) + ": " + describe(error));
    }

    private static String describe(TemplateError error) {
        Throwable root = error.getException();
        while (root != null && root.getCause() != null) {
            root = root.getCause();
        }
        // Jinjava words a failing call as "Error invoking function 'f'": a cause from this package says why.
        String message = error.getMessage();
        return root == null || !root.getClass().getPackageName().equals(JinjaEnvironment.class.getPackageName())
                || message.contains(root.getMessage())
                ? message
                : message + ": " + root.getMessage();
    }

    private static <T extends Throwable> T cause(TemplateError error, Class<T> type) {
        for (Throwable t = error.getException(); t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }
}
