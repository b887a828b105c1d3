# ruff: noqa: E501 - real chat templates are kept verbatim, long lines included
"""Chat templates are judged by what their syntax tree reaches, never rendered.

Real templates of popular models must pass; canary payloads (which would create the ``canary``
file if a renderer ever ran them) must be caught however they spell their dunder names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelsteward.checks.security._context import Context, ScanOptions, Sink
from modelsteward.checks.security.templates import MAX_TEMPLATE_CHARS, check_template
from modelsteward.core import Severity
from modelsteward.core.rules import load_catalogue

REAL_TEMPLATES: dict[str, str] = {
    # Llama 3 Instruct
    "llama3": r"""{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}""",
    # Llama 3.1 Instruct with tools
    "llama31": r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}""",
    # Llama 3.2 with strftime_now
    "llama32": r"""{{- bos_token }}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}""",
    # Mistral Instruct v0.2
    "mistral": r"""{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}""",
    # Mistral Instruct v0.3 with tools and namespace
    "mistral_tools": r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}""",
    # Qwen2.5 Instruct (ChatML with tools)
    "qwen25": r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}""",
    # ChatML
    "chatml": r"""{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}""",
    # Gemma Instruct
    "gemma": r"""{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}""",
    # Phi-3 mini
    "phi3": r"""{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}""",
    # Zephyr beta
    "zephyr": r"""{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}""",
    # DeepSeek-R1 (namespace, split)
    "deepseek_r1": r"""{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endfor %}{% if add_generation_prompt %}{{'<｜Assistant｜><think>\n'}}{% endif %}""",
    # SmolLM-style {% generation %} and {% break %}
    "smol_generation": r"""{%- for message in messages %}
    {%- if message.role == "assistant" %}
        {{- "<|im_start|>assistant\n" }}
        {%- generation %}
        {{- message.content | trim + "<|im_end|>\n" }}
        {%- endgeneration %}
    {%- else %}
        {%- if message.content is string and message.content.startswith("/no_think") %}{% break %}{% endif %}
        {{- "<|im_start|>" + message.role.upper() + "\n" + message.content.strip() + "<|im_end|>\n" }}
        {%- for key, value in message.get("metadata", {}).items() %}{{ key.title() }}: {{ value }}{% endfor %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}{{- "<|im_start|>assistant\n" }}{%- endif %}""",
}


Judge = Callable[..., Sink]


@pytest.fixture
def judge() -> Judge:
    """Run check_template on ``source`` and return what it recorded."""
    catalogue = load_catalogue()

    def run(source: str, *, claimed: bool = True) -> Sink:
        sink = Sink()
        ctx = Context(
            path="tokenizer_config.json",
            name="tokenizer_config.json",
            options=ScanOptions(),
            catalogue=catalogue,
            sink=sink,
            scan_nested=lambda data, ctx: None,
        )
        check_template(source, ctx, at="/chat_template", claimed=claimed)
        return sink

    return run


def _rules(sink: Sink, at_least: Severity = Severity.HIGH) -> set[str]:
    return {f.rule for f in sink.findings if f.severity >= at_least}


@pytest.mark.parametrize("name", sorted(REAL_TEMPLATES))
def test_real_chat_templates_pass(judge: Judge, name: str) -> None:
    sink = judge(REAL_TEMPLATES[name])
    assert [f for f in sink.findings if f.severity >= Severity.MEDIUM] == []
    assert sink.incomplete == []


# Each payload would run ``touch <canary>`` in a renderer that is not sandboxed.
PAYLOADS: dict[str, tuple[str, str]] = {
    "cve-2024-34359": (
        "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
        "{{ c()._module.__builtins__['__import__']('os').system('touch CANARY') }}{% endif %}{% endfor %}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "self-globals": (
        "{{ self.__init__.__globals__.__builtins__.__import__('os').popen('touch CANARY').read() }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "cycler-globals": (
        "{{ cycler.__init__.__globals__.os.system('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "attr-filter": (
        "{{ (lipsum|attr('__globals__'))['os'].system('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "hex-escapes": (
        "{{ joiner['\\x5f\\x5finit\\x5f\\x5f']['\\x5f\\x5fglobals\\x5f\\x5f']['os'].system('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "concatenation": (
        "{{ (joiner|attr('__in' ~ 'it__')|attr('__glo' + 'bals__'))['os'].system('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "reverse-filter": ("{{ (cycler|attr('__tini__'|reverse)).x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "slice-reverse": ("{{ cycler['__tini__'[::-1]].x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "percent-format": (
        "{{ cycler[('%c%cinit%c%c'|format(95, 95, 95, 95))].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "str-format": (
        "{{ cycler['{0}{0}init{0}{0}'.format('_')].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "join": ("{{ cycler[['_', '_', 'init', '_', '_']|join].x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "replace": ("{{ cycler['XXinitXX'.replace('X', '_')].x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "multiply": ("{{ cycler[('_' * 2) ~ 'init' ~ ('_' * 2)].x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "chr": (
        "{{ cycler[chr(95) ~ chr(95) ~ 'init' ~ chr(95) ~ chr(95)].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "upper-case": ("{{ cycler['__INIT__'|lower].x('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "set-reassigned": (
        "{% set a = '__in' %}{% set a = a ~ 'it__' %}{{ cycler[a].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "namespace-field": (
        "{% set ns = namespace(a='__in') %}{% set ns.a = ns.a + 'it__' %}{{ cycler|attr(ns.a) }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "set-block": (
        "{% set a %}__init__{% endset %}{{ cycler[a].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "macro-body": (
        "{% macro m() %}__init__{% endmacro %}{{ cycler[m()].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "keyword-name": ("{{ dict(__init__=1)|first }}", "TEMPLATE-DUNDER-ACCESS"),
    "builtins-name": ("{{ __builtins__.__import__('os').system('touch CANARY') }}", "TEMPLATE-DUNDER-ACCESS"),
    "name-mangled-private": (
        "{{ self._TemplateReference__context.cycler.x('touch CANARY') }}",
        "TEMPLATE-PRIVATE-ATTRIBUTE",
    ),
    "computed-attr": ("{% set n = messages[0].content %}{{ cycler|attr(n) }}", "TEMPLATE-DYNAMIC-ATTRIBUTE"),
    "os-popen": ("{{ x.os.popen('touch CANARY').read() }}", "TEMPLATE-DANGEROUS-NAME"),
    "subprocess-run": ("{{ x.modules['subprocess'].run(['touch', 'CANARY']) }}", "TEMPLATE-DANGEROUS-NAME"),
    "eval-call": ('{{ eval(\'open("CANARY", "w")\') }}', "TEMPLATE-DANGEROUS-NAME"),
    "format-field": ("{{ '{0.__class__.__init__}'.format(x) }}", "TEMPLATE-DUNDER-STRING"),
    "include": ("{% include 'CANARY' %}", "TEMPLATE-FILE-ACCESS"),
    "import": ("{% import 'CANARY' as c %}{{ c.x }}", "TEMPLATE-FILE-ACCESS"),
    "extends": ("{% extends 'CANARY' %}", "TEMPLATE-FILE-ACCESS"),
    # Attribute names hidden in blocks the folder must follow, and filters that read attributes.
    "filter-block": (
        "{% set v %}_{% filter reverse %}__tini_{% endfilter %}{% endset %}{{ cycler[v].x('touch CANARY') }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "map-attr-of-filter-block": (
        "{% set v %}_{% filter reverse %}__tini_{% endfilter %}{% endset %}{{ [cycler]|map('attr', v)|list }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "map-attribute-dotted": (
        "{{ [cycler]|map(attribute='next.__globals__')|list }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "selectattr-built": (
        "{% set q = 'ss__' %}{{ [x]|selectattr('__cla' ~ q)|list }}",
        "TEMPLATE-DUNDER-ACCESS",
    ),
    "sort-attribute": ("{{ [x]|sort(attribute='__class__')|first }}", "TEMPLATE-DUNDER-ACCESS"),
    "groupby-splat": (
        "{% set a = messages[0].content %}{{ [x]|groupby(*[a])|list }}",
        "TEMPLATE-DYNAMIC-ATTRIBUTE",
    ),
    "caller-subscript": (
        "{% macro m() %}{{ cycler[caller()] }}{% endmacro %}{% call m() %}{{ messages[0].content }}{% endcall %}",
        "TEMPLATE-DYNAMIC-ATTRIBUTE",
    ),
    "macro-arguments-subscript": (
        "{% macro m(a, b) %}{{ cycler[a ~ b].x('touch CANARY') }}{% endmacro %}{{ m('__in', 'it__') }}",
        "TEMPLATE-DYNAMIC-ATTRIBUTE",
    ),
    "loop-built-subscript": (
        "{% set ns = namespace(s='') %}{% for c in ['_', '_', 'init', '_', '_'] %}{% set ns.s = ns.s ~ c %}"
        "{% endfor %}{{ cycler[ns.s].x('touch CANARY') }}",
        "TEMPLATE-DYNAMIC-ATTRIBUTE",
    ),
}


@pytest.mark.parametrize(
    "template",
    [
        "{{ messages|selectattr('role', 'equalto', 'system')|map(attribute='content')|join('\\n') }}",
        "{{ tools|sort(attribute='function.name')|map(attribute='function.name')|join(', ') }}",
        "{% set m = {'string': 'str'} %}{% for t in tools %}{{ m[t.type] }}{{ t[key] }}{% endfor %}",
        "{% set ns = namespace(c='') %}{% for m in messages %}{% set ns.c = ns.c ~ m.content %}{% endfor %}{{ ns.c }}",
        "{% for k, v in tool.items() %}{{ tool[k] }}{% endfor %}{{ messages[loop.index0 - 1] }}",
    ],
)
def test_data_driven_attribute_names_are_fine(judge: Judge, template: str) -> None:
    assert judge(template).findings == []


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_payloads_are_caught_at_high_or_above(judge: Judge, canary: Path, name: str) -> None:
    template, rule = PAYLOADS[name]
    sink = judge(template.replace("CANARY", str(canary)))
    assert rule in _rules(sink)
    assert not canary.exists()


def test_calling_an_os_facility_is_critical(judge: Judge) -> None:
    sink = judge("{{ x.os.system('id') }}")
    assert {(f.evidence, f.severity) for f in sink.findings} >= {(".system()", Severity.CRITICAL)}


def test_gadget_global_alone_is_medium(judge: Judge) -> None:
    sink = judge("{{ cycler('a', 'b').next() }}")
    assert [(f.rule, f.severity) for f in sink.findings] == [("TEMPLATE-GADGET-GLOBAL", Severity.MEDIUM)]


def test_local_variable_shadowing_a_gadget_name_is_fine(judge: Judge) -> None:
    sink = judge(
        "{% set config = messages[0] %}{{ config['content'] }}{% for self in messages %}{% endfor %}"
    )
    assert sink.findings == []


def test_private_dict_key_is_not_an_attribute(judge: Judge) -> None:
    assert judge("{{ message['_id'] }}{{ message|attr('role') }}").findings == []


def test_finding_names_the_location_and_line(judge: Judge) -> None:
    sink = judge("{{ messages }}\n{{ x.__class__ }}")
    assert [(f.location, f.evidence) for f in sink.findings] == [("/chat_template line 2", "__class__")]


def test_repeated_payload_is_reported_once(judge: Judge) -> None:
    sink = judge("{{ x.__class__ }}" * 50)
    assert len(sink.findings) == 1


def test_claimed_template_that_does_not_parse_is_incomplete(judge: Judge) -> None:
    sink = judge("{{ unclosed")
    assert [(f.rule, f.severity) for f in sink.findings] == [("TEMPLATE-PARSE-ERROR", Severity.LOW)]
    assert sink.incomplete == ["/chat_template: template does not parse"]


def test_unparsable_template_is_still_searched_for_dunders(judge: Judge) -> None:
    sink = judge("{% do x %}{{ x.\\x5f_class__.__mro__ ")
    assert "TEMPLATE-DUNDER-ACCESS" in _rules(sink, Severity.CRITICAL)
    assert sink.incomplete


def test_unclaimed_string_that_does_not_parse_is_left_alone(judge: Judge) -> None:
    sink = judge("{{", claimed=False)
    assert sink.findings == []
    assert sink.incomplete == []


def test_unclaimed_string_with_a_payload_is_reported(judge: Judge) -> None:
    assert "TEMPLATE-DUNDER-ACCESS" in _rules(judge("Hi {{ x.__class__ }}", claimed=False))


def test_oversized_template_is_bounded_and_searched(judge: Judge) -> None:
    sink = judge("A" * MAX_TEMPLATE_CHARS + "{{ self.__init__.__globals__ }}")
    assert {"TEMPLATE-TOO-LARGE", "TEMPLATE-DUNDER-ACCESS"} <= {f.rule for f in sink.findings}
    assert sink.incomplete


def test_deeply_nested_template_is_incomplete_not_an_error(judge: Judge) -> None:
    sink = judge("{{ " + "(" * 20000 + "1" + ")" * 20000 + " }}")
    assert sink.incomplete


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 999999999 * 999999999 }}",
        "{{ '%999999999s'|format('a') }}",
        "{{ '{:>999999999}'.format('a') }}",
        "{{ ('a' * 4000)|replace('a', 'bbbbbbbbbbbbbbbbbbbb') }}",
        "{{ " + " ~ ".join(["'ab'"] * 5000) + " }}",
    ],
)
def test_folding_never_builds_huge_strings(judge: Judge, template: str) -> None:
    # Would exhaust memory if folded naively; a bounded fold leaves them unknown.
    assert judge(template).findings == []
