import { addedOptionalFields, encryptedMoreOnDevice, type MigrationStrategies } from './migrations.ts';
import {
  addressProperty, baseProperties, conflictHistoryProperty, dateTimeProperty, geoPointProperty,
  lastEditProperty, longText, refId, shortText,
} from './common.ts';
import { epcrAttachmentsProperty } from './attachments.ts';

/** Codes are kept as NEMSIS code strings (e.g. "2205001") so the export needs no lookup. */
const code = { type: 'string', maxLength: 20 } as const;
const codeList = { type: 'array', maxItems: 50, items: code } as const;
const textList = { type: 'array', maxItems: 100, items: shortText } as const;
const itemId = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** eOutcome.09/.19 and .12/.20: ICD-10-PCS procedures a hospital did, each with when. */
const outcomeProcedures = {
  type: 'array',
  maxItems: 50,
  items: {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: itemId, code, performedAt: dateTimeProperty },
  },
} as const;

/** One entry of eTimes; each key maps to the NEMSIS element named in its comment. */
const timesProperty = {
  type: 'object',
  additionalProperties: false,
  properties: {
    psapCall: dateTimeProperty, // eTimes.01
    dispatchNotified: dateTimeProperty, // eTimes.02
    unitNotified: dateTimeProperty, // eTimes.03
    dispatchAcknowledged: dateTimeProperty, // eTimes.04
    unitEnRoute: dateTimeProperty, // eTimes.05
    unitOnScene: dateTimeProperty, // eTimes.06
    atPatient: dateTimeProperty, // eTimes.07
    transferOfEmsCare: dateTimeProperty, // eTimes.08
    unitLeftScene: dateTimeProperty, // eTimes.09
    atDestination: dateTimeProperty, // eTimes.11
    transferOfCare: dateTimeProperty, // eTimes.12
    backInService: dateTimeProperty, // eTimes.13
    unitCanceled: dateTimeProperty, // eTimes.14
    unitBackAtHome: dateTimeProperty, // eTimes.15
    unitArrivedStaging: dateTimeProperty, // eTimes.17
  },
} as const;

export const epcrSchema = {
  title: 'epcrs',
  description: 'Electronic patient care report, sectioned like NEMSIS 3.5 (one PatientCareReport).',
  version: 8,
  primaryKey: 'id',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'tenantId', 'rev', 'status', 'unitId'],
  /**
   * PHI, stored AES-encrypted on devices (AES-256-GCM, client/sync/field-encryption.ts):
   * whole top-level sections, so nothing inside them can be indexed or queried; apps select
   * reports by id, unitId, incidentId, status and lockedAt only. `conflicts` holds copies of
   * merged-away values of these sections (lostValueJson/keptValueJson), so it is encrypted too.
   * `dispatch` holds the complaint as the caller reported it. The server never sees this list
   * (wire-schema.ts strips it). Which fields of a sealed collection stay in clear on a device is
   * checked by test/shared/access/device-encryption.test.ts.
   */
  encrypted: ['patient', 'situation', 'injury', 'arrest', 'history', 'vitals', 'protocols', 'medications', 'procedures', 'narrative', 'disposition', 'payment', 'scene', 'dispatch', 'addendumReason', 'crew', 'conflicts', 'attachments', 'refusal', 'outcome', 'finalizeWarnings'],
  properties: {
    ...baseProperties,
    status: { type: 'string', enum: ['draft', 'finalized'] },
    unitId: refId,
    incidentId: refId,
    /** An addendum is its own ePCR document pointing at the locked report it amends. */
    addendumOf: refId,
    addendumReason: shortText,
    /** Server-owned: set by the finalize hook when the report passes validation. */
    lockedAt: dateTimeProperty,
    /** Server-owned: field-level problems found when finalization was refused. */
    finalizeErrors: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'message'],
        properties: { path: { type: 'string', maxLength: 200 }, message: { type: 'string', maxLength: 500 } },
      },
    },
    /**
     * Server-owned: the national Schematron's [WARNING]s of the last check of the report's NEMSIS
     * export at finalize, each at the field it is about (path as in finalizeErrors) with its rule.
     * They never refuse; kept on the report so the crew sees them at their fields, offline too.
     * They quote the report's values: encrypted on devices like the clinical sections.
     * `foundOn` (v8): the mark of the field's value the warning was found on (shared/epcr/field-value.ts):
     * the form shows a warning only while its field still holds that value.
     */
    finalizeWarnings: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'message'],
        properties: { path: { type: 'string', maxLength: 200 }, message: { type: 'string', maxLength: 500 }, rule: { type: 'string', maxLength: 60 }, foundOn: { type: 'string', maxLength: 16 } },
      },
    },
    record: {
      type: 'object',
      additionalProperties: false,
      properties: {
        pcrNumber: { type: 'string', maxLength: 50 }, // eRecord.01
        /**
         * eRecord.02-.04: the software that created the record. Written by the server only for a
         * report imported from another system (the exporter writes its own name otherwise), so an
         * imported report re-exports with the name of the software that made it.
         */
        software: {
          type: 'object',
          additionalProperties: false,
          properties: { creator: shortText, name: shortText, version: shortText },
        },
      },
    },
    /** Server-owned: when the report was imported from a NEMSIS EMSDataSet file (POST EPCRS.nemsisImport); absent for reports written here. */
    importedAt: dateTimeProperty,
    response: {
      type: 'object',
      additionalProperties: false,
      properties: {
        agencyNumber: shortText, // eResponse.01
        incidentNumber: shortText, // eResponse.03
        responseNumber: shortText, // eResponse.04
        serviceType: code, // eResponse.05
        unitCapability: code, // eResponse.07
        vehicleNumber: shortText, // eResponse.13
        callSign: shortText, // eResponse.14
        responseMode: code, // eResponse.23
        dispatchDelays: codeList, // eResponse.08
        responseDelays: codeList, // eResponse.09
        sceneDelays: codeList, // eResponse.10
        transportDelays: codeList, // eResponse.11
        turnAroundDelays: codeList, // eResponse.12
        responseModeDescriptors: codeList, // eResponse.24
      },
    },
    dispatch: {
      type: 'object',
      additionalProperties: false,
      properties: {
        reason: code, // eDispatch.01
        emdPerformed: code, // eDispatch.02
        emdDeterminant: shortText, // eDispatch.03
        priority: shortText, // eDispatch.05
        cadRecordId: shortText, // eDispatch.06
        complaint: shortText,
      },
    },
    /** eCrew: who was on the unit, at what level, in which roles. */
    crew: {
      type: 'array',
      maxItems: 20,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: itemId,
          memberId: shortText, // eCrew.01 (the agency's id of the crew member)
          level: code, // eCrew.02
          roles: codeList, // eCrew.03
        },
      },
    },
    times: timesProperty,
    scene: {
      type: 'object',
      additionalProperties: false,
      properties: {
        address: addressProperty, // eScene.15-.21
        location: geoPointProperty, // eScene.11
        numberOfPatients: { type: 'integer', minimum: 0, maximum: 1000 }, // eScene.06
        locationType: code, // eScene.09
        firstOnScene: code, // eScene.01
        massCasualty: code, // eScene.07
        mciTriage: code, // eScene.08
      },
    },
    patient: {
      type: 'object',
      additionalProperties: false,
      properties: {
        firstName: shortText, // ePatient.03
        lastName: shortText, // ePatient.02
        dateOfBirth: { type: 'string', maxLength: 10, pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }, // ePatient.17
        age: { type: 'integer', minimum: 0, maximum: 150 }, // ePatient.15
        ageUnits: code, // ePatient.16
        sex: code, // ePatient.25
        gender: code, // ePatient.13 (deprecated in 3.5.1, still national: a receiver may still read it)
        race: codeList, // ePatient.14
        address: addressProperty, // ePatient.05-.09
        phone: { type: 'string', maxLength: 20 },
      },
    },
    situation: {
      type: 'object',
      additionalProperties: false,
      properties: {
        onset: dateTimeProperty, // eSituation.01
        possibleInjury: code, // eSituation.02
        chiefComplaint: shortText, // eSituation.04
        primarySymptom: code, // eSituation.09
        primaryImpression: code, // eSituation.11
        secondaryImpressions: codeList, // eSituation.12
        acuity: code, // eSituation.13
        lastKnownWell: dateTimeProperty, // eSituation.18
        complaintLocation: code, // eSituation.07
        complaintOrganSystem: code, // eSituation.08
        otherSymptoms: textList, // eSituation.10 (ICD-10-CM)
        transferReason: code, // eSituation.20
      },
    },
    /** eInjury: what caused the injury and the field trauma triage criteria met. */
    injury: {
      type: 'object',
      additionalProperties: false,
      properties: {
        causes: textList, // eInjury.01 (ICD-10-CM external cause codes)
        highRiskCriteria: codeList, // eInjury.03
        moderateRiskCriteria: codeList, // eInjury.04
        highRiskPertinentNegative: code, // eInjury.03 PN ("None Reported")
        moderateRiskPertinentNegative: code, // eInjury.04 PN
      },
    },
    /** eArrest: the cardiac arrest, when there was one (cardiacArrest "No": the rest is Not Applicable in the export). */
    arrest: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cardiacArrest: code, // eArrest.01
        etiology: code, // eArrest.02
        resuscitationAttempted: codeList, // eArrest.03
        witnessedBy: codeList, // eArrest.04
        aedPriorToEms: code, // eArrest.07
        cprTypes: codeList, // eArrest.09
        firstRhythm: code, // eArrest.11
        rosc: codeList, // eArrest.12
        arrestAt: dateTimeProperty, // eArrest.14
        discontinuedReason: code, // eArrest.16
        rhythmAtDestination: codeList, // eArrest.17
        endOfEvent: code, // eArrest.18
        cprFirstBy: code, // eArrest.20
        aedFirstBy: code, // eArrest.21
        defibrillatedFirstBy: code, // eArrest.22
      },
    },
    history: {
      type: 'object',
      additionalProperties: false,
      properties: {
        // Codes (the form refuses other text; finalize names any an earlier build stored as words).
        allergies: textList, // eHistory.06 (RxNorm, Z88.x) / eHistory.07 (SNOMED CT)
        medicalHistory: textList, // eHistory.08 (ICD-10-CM)
        currentMedications: textList, // eHistory.12 (RxNorm)
        /** A person's own words beside the coded lists, where no code fits (never in place of a code). */
        allergiesText: textList,
        medicalHistoryText: textList,
        currentMedicationsText: textList,
        lastOralIntake: dateTimeProperty, // eHistory.19
        barriersToCare: codeList, // eHistory.01
        alcoholDrugUse: codeList, // eHistory.17
        // Pertinent negatives (PN attribute): what the crew found instead of a value ("No Known Drug Allergy", "None Reported").
        allergiesPertinentNegative: code, // eHistory.06 PN
        alcoholDrugUsePertinentNegative: code, // eHistory.17 PN
      },
    },
    vitals: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id'],
        properties: {
          id: itemId,
          takenAt: dateTimeProperty, // eVitals.01
          systolic: { type: 'integer', minimum: 0, maximum: 400 }, // eVitals.06
          diastolic: { type: 'integer', minimum: 0, maximum: 300 }, // eVitals.07
          heartRate: { type: 'integer', minimum: 0, maximum: 400 }, // eVitals.10
          respiratoryRate: { type: 'integer', minimum: 0, maximum: 100 }, // eVitals.14
          spo2: { type: 'integer', minimum: 0, maximum: 100 }, // eVitals.12
          etco2: { type: 'number', minimum: 0, maximum: 200 }, // eVitals.16 (NEMSIS CO2: a decimal, one place)
          glucose: { type: 'integer', minimum: 0, maximum: 2000 }, // eVitals.18
          gcsEye: { type: 'integer', minimum: 1, maximum: 4 }, // eVitals.19
          gcsVerbal: { type: 'integer', minimum: 1, maximum: 5 }, // eVitals.20
          gcsMotor: { type: 'integer', minimum: 1, maximum: 6 }, // eVitals.21
          /** eVitals.23 as another system recorded it without its three parts (an import); with them the export sums them. */
          gcsTotal: { type: 'integer', minimum: 3, maximum: 15 },
          avpu: code, // eVitals.26
          pain: { type: 'integer', minimum: 0, maximum: 10 }, // eVitals.27
          temperatureC: { type: 'number', minimum: 10, maximum: 50 }, // eVitals.24
          priorToUnit: code, // eVitals.02
          cardiacRhythm: codeList, // eVitals.03
          ecgType: code, // eVitals.04
          ecgInterpretation: codeList, // eVitals.05
          gcsQualifiers: codeList, // eVitals.22
          strokeScaleResult: code, // eVitals.29
          strokeScaleType: code, // eVitals.30
          reperfusionChecklist: code, // eVitals.31
        },
      },
    },
    medications: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'medication'],
        properties: {
          id: itemId,
          givenAt: dateTimeProperty, // eMedications.01
          medication: shortText, // eMedications.03 (RxNorm; SNOMED CT for blood products)
          medicationText: shortText, // a person's own words beside the code, where no code fits
          route: code, // eMedications.04
          dose: { type: 'number', minimum: 0 }, // eMedications.05
          doseUnit: code, // eMedications.06
          response: code, // eMedications.07
          complication: code, // eMedications.08
          priorToUnit: code, // eMedications.02
          performerRole: code, // eMedications.10
          pertinentNegative: code, // eMedications.03 PN: why it was not given (allergy, refused, contraindication...)
        },
      },
    },
    procedures: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'procedure'],
        properties: {
          id: itemId,
          performedAt: dateTimeProperty, // eProcedures.01
          procedure: shortText, // eProcedures.03 (SNOMED CT)
          procedureText: shortText, // a person's own words beside the code, where no code fits
          attempts: { type: 'integer', minimum: 0, maximum: 50 }, // eProcedures.05
          successful: code, // eProcedures.06
          response: code, // eProcedures.08
          priorToUnit: code, // eProcedures.02
          complications: codeList, // eProcedures.07
          performerRole: code, // eProcedures.10
          pertinentNegative: code, // eProcedures.03 PN: why it was not done
        },
      },
    },
    /** eProtocols: the protocols the crew worked by. */
    protocols: {
      type: 'object',
      additionalProperties: false,
      properties: { used: codeList }, // eProtocols.01, one ProtocolGroup each
    },
    narrative: {
      type: 'object',
      additionalProperties: false,
      properties: { text: longText }, // eNarrative.01
    },
    disposition: {
      type: 'object',
      additionalProperties: false,
      properties: {
        destinationName: shortText, // eDisposition.01
        destinationCode: shortText, // eDisposition.02
        destinationAddress: addressProperty, // eDisposition.03-.07
        destinationType: code, // eDisposition.21
        unitDisposition: code, // eDisposition.27
        patientEvaluationCare: code, // eDisposition.28
        crewDisposition: code, // eDisposition.29
        transportDisposition: code, // eDisposition.30
        preArrivalAlert: code, // eDisposition.24
        preArrivalAlertAt: dateTimeProperty, // eDisposition.25
        loadedMiles: { type: 'number', minimum: 0, maximum: 10000 },
        transportMethod: code, // eDisposition.16
        transportMode: code, // eDisposition.17
        transportModeDescriptors: codeList, // eDisposition.18
        releaseAcuity: code, // eDisposition.19
        destinationReasons: codeList, // eDisposition.20
        inpatientDestination: code, // eDisposition.22
        hospitalCapabilities: codeList, // eDisposition.23
        levelOfCare: code, // eDisposition.32
      },
    },
    payment: {
      type: 'object',
      additionalProperties: false,
      properties: {
        primaryMethod: code, // ePayment.01
        serviceLevel: code, // ePayment.50
        insuranceCompany: shortText, // ePayment.10
        memberId: shortText, // ePayment.19
      },
    },
    /**
     * eOutcome: what the hospital reported after the EMS encounter (dispositions, diagnoses,
     * procedures and their times). Known after the report is written: entered by an admin or
     * brought in by an import, not by the crew.
     */
    outcome: {
      type: 'object',
      additionalProperties: false,
      properties: {
        edDisposition: code, // eOutcome.01
        hospitalDisposition: code, // eOutcome.02
        edProcedures: outcomeProcedures, // eOutcome.EmergencyDepartmentProceduresGroup: eOutcome.09, .19
        edDiagnoses: { type: 'array', maxItems: 50, items: code }, // eOutcome.10 (ICD-10-CM)
        hospitalAdmittedAt: dateTimeProperty, // eOutcome.11
        hospitalProcedures: outcomeProcedures, // eOutcome.HospitalProceduresGroup: eOutcome.12, .20
        hospitalDiagnoses: { type: 'array', maxItems: 50, items: code }, // eOutcome.13 (ICD-10-CM)
        hospitalDischargedAt: dateTimeProperty, // eOutcome.16
        edAdmittedAt: dateTimeProperty, // eOutcome.18
      },
    },
    /**
     * Signatures and photos (attachments.ts): the reference that replicates; the bytes are
     * uploaded by tus and stored once by SHA-256 (docs/protocol.md "Attachments"). Encrypted on
     * devices: signers' names and annotations are PHI.
     */
    attachments: epcrAttachmentsProperty,
    /**
     * A refusal of care or transport (eDisposition.28/.30 refusal codes): what the crew explained
     * to the patient. Finalizing a refusal needs the patient's and a witness's signatures, or a
     * crew attestation (shared/domain/epcr-validation.ts).
     */
    refusal: {
      type: 'object',
      additionalProperties: false,
      properties: {
        statement: longText,
      },
    },
    conflicts: conflictHistoryProperty,
    lastEdit: lastEditProperty,
    /**
     * Server-owned: a copy of each value a workflow filled in (unit status and call timeline
     * stamps into `times`). A field equal to its copy here was derived, not typed, and a value a
     * person typed wins a merge against it (shared/merge/three-way.ts).
     */
    derived: {
      type: 'object',
      additionalProperties: false,
      properties: { times: timesProperty },
    },
  },
} as const;

/**
 * Version history (migrations.ts): 0: the first release.
 * 1: conflict entries name who wrote each value and when, free text kept twice, resolution (common.ts); lastEdit; derived (server-owned copies of workflow-stamped times). Only optional fields were added.
 * 2: a person's own words beside the vocabulary codes (medicationText, procedureText, history.*Text; issue 16, codes
 *    from the standard). Only optional fields were added: words an earlier build stored where a code belongs stay where they
 *    are, and finalize names them at their field (shared/epcr/coded-fields.ts) for the crew to move.
 * 3: `dispatch` (the dispatch complaint) and `addendumReason` stored encrypted on devices (issue 17). The document is unchanged.
 * 4: the national elements the report could not hold (issue 16, coverage): cardiac arrest (arrest), injury and trauma
 *    triage (injury), crew members (crew), protocols, ECG and stroke scale per vital set, who gave each medication and did
 *    each procedure, transport mode and method, destination reason, response delays, the staging and at-home times, and
 *    pertinent negatives (a medication not given and why, no known drug allergy, no trauma criteria). Only optional
 *    fields were added.
 * 5: signatures and photos (issue 18): `attachments` (references by SHA-256, merged as a union) and the refusal
 *    statement (`refusal`), both encrypted on devices. Only optional fields were added.
 * 6: the last national elements and NEMSIS import (issue 16): eOutcome (outcome, stored encrypted on devices), ePatient.13
 *    (patient.gender), a GCS total without its parts (vitals[].gcsTotal, imports), ETCO2 with its decimal place, the time of a vital
 *    set, medication or procedure no longer required (another system's report may lack it; a medication not given has none), eRecord.02-.04 of an imported report (record.software) and importedAt. Only optional fields were
 *    added.
 * 7: `finalizeWarnings` (server-owned, encrypted on devices): the national Schematron's warnings of the last finalize check,
 *    shown at their fields offline too (issue 16). Only an optional field was added.
 * 8: `finalizeWarnings[].foundOn`, the mark of the value each warning was found on, so a warning leaves its field when the
 *    crew changes the value (issue 16). Only an optional field was added.
 */
export const epcrMigrationStrategies = {
  1: addedOptionalFields,
  2: addedOptionalFields,
  3: encryptedMoreOnDevice,
  4: addedOptionalFields,
  5: addedOptionalFields,
  6: addedOptionalFields,
  7: addedOptionalFields,
  8: addedOptionalFields,
} as const satisfies MigrationStrategies;
