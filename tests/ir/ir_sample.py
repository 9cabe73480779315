"""A small, valid PipelineSpec shaped like kfp's output, for tests that break it on purpose.

It has what the validation rules look at: root inputs with defaults, a producer and
consumers of parameters and artifacts, a condition, a loop over a pipeline parameter with
a parallelism limit, an exit handler with a final-status consumer, DAG outputs, retries
and container and importer executors. Written by hand so these tests need no kfp.
"""

from typing import Any

import yaml

SAMPLE_YAML = """\
# PIPELINE DEFINITION
# Name: sample
components:
  comp-add:
    executorLabel: exec-add
    inputDefinitions:
      parameters:
        a: {parameterType: NUMBER_INTEGER}
        b: {defaultValue: 2, isOptional: true, parameterType: NUMBER_INTEGER}
    outputDefinitions:
      parameters:
        Output: {parameterType: NUMBER_INTEGER}
  comp-make:
    executorLabel: exec-make
    inputDefinitions:
      parameters:
        n: {parameterType: NUMBER_INTEGER}
    outputDefinitions:
      artifacts:
        out:
          artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
  comp-read:
    executorLabel: exec-read
    inputDefinitions:
      artifacts:
        ds:
          artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
  comp-importer:
    executorLabel: exec-importer
    inputDefinitions:
      parameters:
        uri: {parameterType: STRING}
    outputDefinitions:
      artifacts:
        artifact:
          artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
  comp-report:
    executorLabel: exec-report
    inputDefinitions:
      parameters:
        status: {isOptional: true, parameterType: TASK_FINAL_STATUS}
  comp-condition-1:
    dag:
      outputs:
        parameters:
          pipelinechannel--add-2-Output:
            valueFromParameter: {outputParameterKey: Output, producerSubtask: add-2}
      tasks:
        add-2:
          cachingOptions: {enableCache: true}
          componentRef: {name: comp-add}
          inputs:
            parameters:
              a: {componentInputParameter: pipelinechannel--add-Output}
          taskInfo: {name: add-2}
    inputDefinitions:
      parameters:
        pipelinechannel--add-Output: {parameterType: NUMBER_INTEGER}
    outputDefinitions:
      parameters:
        pipelinechannel--add-2-Output: {parameterType: NUMBER_INTEGER}
  comp-for-loop-2:
    dag:
      tasks:
        add-3:
          componentRef: {name: comp-add}
          inputs:
            parameters:
              a: {componentInputParameter: pipelinechannel--items-loop-item}
          taskInfo: {name: add-3}
    inputDefinitions:
      parameters:
        pipelinechannel--items: {parameterType: LIST}
        pipelinechannel--items-loop-item: {parameterType: NUMBER_INTEGER}
  comp-exit-handler-3:
    dag:
      tasks:
        importer:
          componentRef: {name: comp-importer}
          inputs:
            parameters:
              uri: {runtimeValue: {constant: 'file:///tmp/data'}}
          taskInfo: {name: importer}
        read-2:
          componentRef: {name: comp-read}
          dependentTasks: [importer]
          inputs:
            artifacts:
              ds:
                taskOutputArtifact: {outputArtifactKey: artifact, producerTask: importer}
          taskInfo: {name: read-2}
deploymentSpec:
  executors:
    exec-add:
      container:
        image: python:3.11
        command:
        - sh
        - -c
        - |
          set -e
          echo "$0 + $1"
        args: ["{{$.inputs.parameters['a']}}", "{{$.inputs.parameters['b']}}"]
    exec-make:
      container: {image: python:3.11, command: [python, -c, pass]}
    exec-read:
      container:
        image: python:3.11
        command: [python, -c, pass]
        resources: {resourceCpuLimit: '1', accelerator: {resourceType: gpu, resourceCount: '1'}}
    exec-report:
      container: {image: python:3.11, command: [python, -c, pass]}
    exec-importer:
      importer:
        artifactUri: {runtimeParameter: uri}
        typeSchema: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
        metadata: {version: 3}
pipelineInfo: {name: sample}
root:
  dag:
    outputs:
      parameters:
        total:
          valueFromParameter: {outputParameterKey: Output, producerSubtask: add}
      artifacts:
        data:
          artifactSelectors:
          - {outputArtifactKey: out, producerSubtask: make}
    tasks:
      add:
        cachingOptions: {enableCache: true}
        componentRef: {name: comp-add}
        inputs:
          parameters:
            a: {componentInputParameter: x}
        retryPolicy:
          {backoffDuration: 1s, backoffFactor: 2, backoffMaxDuration: 3600s, maxRetryCount: 2}
        taskInfo: {name: add}
      make:
        cachingOptions: {}
        componentRef: {name: comp-make}
        dependentTasks: [add]
        inputs:
          parameters:
            n:
              taskOutputParameter: {outputParameterKey: Output, producerTask: add}
        taskInfo: {name: make}
      read:
        componentRef: {name: comp-read}
        dependentTasks: [make]
        inputs:
          artifacts:
            ds:
              taskOutputArtifact: {outputArtifactKey: out, producerTask: make}
        taskInfo: {name: read}
      condition-1:
        componentRef: {name: comp-condition-1}
        dependentTasks: [add]
        inputs:
          parameters:
            pipelinechannel--add-Output:
              taskOutputParameter: {outputParameterKey: Output, producerTask: add}
        taskInfo: {name: condition-1}
        triggerPolicy:
          condition: int(inputs.parameter_values['pipelinechannel--add-Output']) > 1
      for-loop-2:
        componentRef: {name: comp-for-loop-2}
        inputs:
          parameters:
            pipelinechannel--items: {componentInputParameter: items}
        iteratorPolicy: {parallelismLimit: 2}
        parameterIterator:
          itemInput: pipelinechannel--items-loop-item
          items: {inputParameter: pipelinechannel--items}
        taskInfo: {name: for-loop-2}
      exit-handler-3:
        componentRef: {name: comp-exit-handler-3}
        taskInfo: {name: exit-handler-3}
      report:
        componentRef: {name: comp-report}
        dependentTasks: [exit-handler-3]
        inputs:
          parameters:
            status:
              taskFinalStatus: {producerTask: exit-handler-3}
        taskInfo: {name: report}
        triggerPolicy: {strategy: ALL_UPSTREAM_TASKS_COMPLETED}
  inputDefinitions:
    parameters:
      x: {defaultValue: 1, isOptional: true, parameterType: NUMBER_INTEGER}
      items:
        defaultValue: [1, 2]
        isOptional: true
        parameterType: LIST
  outputDefinitions:
    parameters:
      total: {parameterType: NUMBER_INTEGER}
    artifacts:
      data:
        artifactType: {schemaTitle: system.Dataset, schemaVersion: 0.0.1}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.0
"""

PLATFORM_YAML = """\
platforms:
  kubernetes:
    deploymentSpec:
      executors:
        exec-add:
          secretAsEnv:
          - secretName: creds
            keyToEnv: [{secretKey: token, envVar: TOKEN}]
    pipelineConfig:
      workspace: {size: 1Gi}
"""


def sample_spec() -> dict[str, Any]:
    """A fresh copy of the sample PipelineSpec as a dict."""
    spec: dict[str, Any] = yaml.safe_load(SAMPLE_YAML)
    return spec


def sample_platform_spec() -> dict[str, Any]:
    """A fresh copy of a PlatformSpec such as kfp-kubernetes writes."""
    platform: dict[str, Any] = yaml.safe_load(PLATFORM_YAML)
    return platform
